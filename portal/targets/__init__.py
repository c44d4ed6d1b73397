"""Targets per metric and scope, and every targeted figure judged with its interval."""
