"""A package shipping templates, as a battery does (``Templates(packages=[...])``)."""

__all__: list[str] = []
