"""Helpers for the agent."""
