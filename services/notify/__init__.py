"""Notify: circulars, overdue alerts and the public announcement (issue 5)."""
