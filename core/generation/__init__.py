"""Text generation backends behind one `TextGenerator` protocol."""

from core.generation.base import GenerationParams, ModelInfo, TextGenerator, Token

__all__ = ["GenerationParams", "ModelInfo", "TextGenerator", "Token"]
