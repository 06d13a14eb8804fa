"""Disposable desktop environments for AI testers, one Docker container each."""
