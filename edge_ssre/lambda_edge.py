"""Public entry point: ``from edge_ssre.lambda_edge import protect`` (see adapters/lambda_edge.py)."""

from .adapters.lambda_edge import blocked_response, protect  # noqa: F401

__all__ = ["protect", "blocked_response"]
