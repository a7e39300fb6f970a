"""Commands Satchel's own batteries add to the ``satchel`` CLI (registered as entry points)."""

__all__: list[str] = []
