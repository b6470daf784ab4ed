"""Authoring: an organisation writes, versions, checks, publishes, exports and imports its own content."""
