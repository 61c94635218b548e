"""Throwaway servers for the tests and the benchmark (no pytest here): see servers.py."""
