"""What intake refuses for reasons other than a malformed field."""


class NotAllowed(Exception):
    """The key may not do this (e.g. a region filing for another region)."""
