"""Tools the model may call, executed server-side. Registered by name in SPARK_TOOLS."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from chat.pipeline import ExtraUsage
from spark.llm.types import ToolSpec


@dataclass(frozen=True)
class ToolContext:
    tenant: Any
    user: Any
    conversation_uuid: str
    key_context: Any = None


@dataclass(frozen=True)
class ToolResult:
    """What the model reads (``content``) and what the chat shows (``display``); a tool
    that called a model itself reports it in ``usage`` (billing charges it)."""

    content: str
    display: dict[str, Any] = field(default_factory=dict)
    is_error: bool = False
    usage: ExtraUsage | None = None


class Tool(Protocol):
    name: str
    description: str
    parameters: dict[str, Any]
    timeout: float

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> ToolResult: ...


@lru_cache(maxsize=1)
def registry() -> dict[str, Tool]:
    return {name: import_string(path)() for name, path in settings.SPARK_TOOLS.items()}


def tools_for(names: list[str]) -> list[Tool]:
    tools = registry()
    return [tools[name] for name in names if name in tools]


def tool_spec(tool: Tool) -> ToolSpec:
    return ToolSpec(name=tool.name, description=tool.description, parameters=tool.parameters)
