"""Detectors of what servers, proxies and tools write in place of an answer.

Error pages and bodies (HTML, JSON, XML), error strings and stack traces, leaked chat-template
tokens, tool calls, token ids and encoded blobs: each detector returns a reason a person can
check, or None. `failures.detect_failure` runs them.
"""

from __future__ import annotations

import re

import orjson

_HTML_START = re.compile(r"^\s*(<!doctype\s+html|<html\b|<head\b|<body\b)", re.IGNORECASE)
_HTML_TITLE = re.compile(r"<(title|h1|h2)[^>]*>([^<]{1,120})<", re.IGNORECASE)
_ERRORISH = re.compile(
    r"error|unavailable|gateway|not found|too many|forbidden|time-?out|denied|"
    r"maintenance|overloaded|\b[45]\d\d\b",
    re.IGNORECASE,
)
# Error strings of inference servers, proxies and Python, as they appear in place of an answer.
ERROR_STRING = re.compile(
    r"cuda out of memory|outofmemoryerror|out of memory|traceback \(most recent call last\)|"
    r"internal server error|service unavailable|bad gateway|gateway time-?out|"
    r"upstream connect error|connection (refused|reset|terminated)|rate limit (exceeded|reached)|"
    r"too many requests|context length exceeded|maximum context length|"
    r"model ['\"]?[\w.:/-]+['\"]? not found|\b\w*(error|exception):\s|"
    r"probability tensor contains|segmentation fault|request failed with status code|"
    r"error communicating with|max retries exceeded|server is overloaded",
    re.IGNORECASE | re.MULTILINE,
)
ERROR_STRING_MAX_CHARS = 400
"""An error string decides only in a text this short: a long answer may discuss errors."""
# "Error" in the other eight languages, opening a line as "Erreur 500 :" or "[エラー]".
_ERROR_WORD = "(erreur|fehler|errore|ошибка|エラー|错误|錯誤|خطأ)"
# What a server, a proxy or a client library writes in place of an answer, at the very start
# of a short text: generic wording that an answer would not open with.
_ERROR_LINE = re.compile(
    r"^\W{0,3}(\[?(error|err|fatal)\]?\s*(\d{3}\b|[:\-\]])|error \d{3}\b|"
    r"(request |connection |read |upstream request )?timed? ?out\b|"
    r"oops!? something went wrong|something went wrong\. please try again|"
    r"\w+_\w+: (failed to|error\b)|failed to (decode|generate|load model)|"
    r"server error in '/' application|"
    rf"{_ERROR_WORD}\s*\d{{0,3}}\s*[:：]|\[{_ERROR_WORD}\]|"
    r"请求失败|請求失敗|服务器繁忙|系统繁忙|请求超时|内部服务错误|服务暂时不可用|サーバーエラー|"
    r"エラーが発生しました|ошибка сервера|erreur (interne|serveur)|interner serverfehler)",
    re.IGNORECASE,
)
ERROR_LINE_MAX_CHARS = 200
"""The first line of an error (a server's page title, a log line) is short; the lines after
it, up to `ERROR_STRING_MAX_CHARS`, are its details."""

# A stack trace or a crash report in place of an answer: its first line opens one and frames
# follow (an answer that explains a traceback opens with prose or a code fence).
_TRACE_OPENER = re.compile(
    r"^(traceback \(most recent call last\)|panic: |fatal error: |"
    r"(exception in thread \S+ )?[\w.$]+(exception|error)(: |$))",
    re.IGNORECASE,
)
_TRACE_FRAME = re.compile(
    r"^(\s+file \"|\s+at [\w.$<]|goroutine \d+|\s+\S+\.go:\d+|\s+\S+\.(py|js|java):\d+)",
    re.IGNORECASE | re.MULTILINE,
)
TRACE_MIN_FRAMES = 2
_XML_ERROR = re.compile(
    r"^<\?xml[^>]*>\s*<(\w+:)?(error|fault)\b|<(error_?code|errorcode)>", re.IGNORECASE
)
# A tool call the client was to run, sent back as the whole answer (wrappers of Qwen, Mistral,
# Phi and Hermes templates, or the bare JSON of OpenAI-style function calling).
_TOOL_CALL_WRAPPER = re.compile(r"</?tool_call>|\[TOOL_CALLS\]|<\|/?tool_calls?\|>")
_TOOL_CALL_KEYS = (
    {"name", "arguments"},
    {"name", "parameters"},
    {"function_call"},
    {"tool_calls"},
    {"tool", "tool_input"},
    {"function", "arguments"},
)
TOKEN_IDS_MIN = 5
TOKEN_ID_MIN_VALUE = 1000
"""A bare list of integers, some of them this large, is a tokenizer's output, not an answer."""
_BLOB = re.compile(r"^(?:[A-Za-z0-9+/]{40,}={0,2}|(?:[0-9a-fA-F]{2}[ :]){16,}[0-9a-fA-F]{2})$")
ASKED_FOR_ENCODING = re.compile(
    r"base ?64|hex|二进制|十六进制|十六進位|16進|кодир|codific|encod|kodier|unicode|escape|utf",
    re.IGNORECASE,
)
CODE = re.compile(r"```.*?(```|\Z)|`[^`\n]+`", re.DOTALL)
TEMPLATE_TOKEN = re.compile(
    r"<\|(im_start|im_end|eot_id|start_header_id|end_header_id|endoftext|begin_of_text|"
    r"assistant|user|system|end|eom_id|fim_prefix|fim_middle|end_of_text|"
    r"reserved_special_token_\d+)\|>|<(eos|bos)>|<0x[0-9A-F]{2}>|^<s>|</s>\s*$|▁\S+▁\S+▁|"
    r"\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>|<｜(begin|end)▁of▁sentence｜>|"
    r"<\|?(user|assistant)\|?>\s*$|<unk>|<pad>|<\|padding\|>"
)


def stack_trace(text: str) -> str | None:
    first = text.split("\n", 1)[0]
    if _TRACE_OPENER.match(first) is None:
        return None
    if len(_TRACE_FRAME.findall(text[:4000])) < TRACE_MIN_FRAMES:
        return None
    return f"a stack trace instead of an answer: {first[:120]}"


def xml_error(text: str) -> str | None:
    if not text.startswith("<") or _XML_ERROR.search(text[:2000]) is None:
        return None
    return f"XML error body: {text[:120]}"


def _json(text: str, opening: str) -> object:
    """The JSON value `text` holds when it opens with one of `opening`, else None."""
    if not text.startswith(tuple(opening)):
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def tool_call(text: str) -> str | None:
    unwrapped = _TOOL_CALL_WRAPPER.sub(" ", text).strip()
    body = _json(unwrapped, "{[")
    if body is None:
        return None
    calls = body if isinstance(body, list) else [body]
    for call in calls:
        if not isinstance(call, dict) or not any(keys <= call.keys() for keys in _TOOL_CALL_KEYS):
            return None
    if not calls:
        return None
    return f"a tool call instead of an answer: {unwrapped[:120]}"


def token_ids(text: str) -> str | None:
    body = _json(text, "[")
    if not isinstance(body, list) or len(body) < TOKEN_IDS_MIN:
        return None
    if not all(isinstance(item, int) for item in body) or max(body) < TOKEN_ID_MIN_VALUE:
        return None
    return f"token ids instead of text: {text[:60]}"


def html_page(text: str) -> str | None:
    if _HTML_START.match(text) is None:
        return None
    title = _HTML_TITLE.search(text)
    shown = title.group(2).strip() if title else text[:80]
    if title is None and _ERRORISH.search(text) is None:
        return None
    return f"HTML page instead of an answer: {shown}"


def json_error(text: str) -> str | None:
    body = _json(text, "{")
    if not isinstance(body, dict):
        return None
    parts = [body, *(value for value in body.values() if isinstance(value, dict))]
    if any(_is_error_object(part) for part in parts):
        return f"JSON error body: {text[:120]}"
    return None


# The key under which an API puts its error, in the languages of the APIs we have seen.
ERROR_KEYS = frozenset(
    {
        "error",
        "errors",
        "detail",
        "erreur",
        "fehler",
        "errore",
        "ошибка",
        "错误",
        "錯誤",
        "エラー",
        "خطأ",
        "error_code",
        "errcode",
        "error_msg",
    }
)


def _is_error_object(part: dict[str, object]) -> bool:
    if ERROR_KEYS & {str(key).casefold() for key in part} or part.get("object") == "error":
        return True
    code, message = part.get("code", part.get("status")), part.get("msg", part.get("message"))
    return isinstance(code, int) and code >= 400 and message is not None


def template_tokens(text: str) -> str | None:
    # A token quoted in code (`<|im_start|>`) is being explained, as an error string is.
    found = TEMPLATE_TOKEN.search(CODE.sub(" ", text))
    if found is None:
        return None
    return f"leaked chat-template token {found.group(0).strip()}"


def error_string(text: str) -> str | None:
    if len(text) > ERROR_STRING_MAX_CHARS:
        return None
    # An error quoted in code (`429 Too Many Requests`, a fenced block) is being explained.
    found = ERROR_STRING.search(CODE.sub(" ", text))
    first_line = text.split("\n", 1)[0]
    if found is None and (len(first_line) > ERROR_LINE_MAX_CHARS or not _ERROR_LINE.match(text)):
        return None
    return f"error message instead of an answer: {text[:120]}"


def blob(text: str, asked: str) -> str | None:
    """A base64 or hex string as the whole answer, unless the question asked for one."""
    if _BLOB.match(text) is None or ASKED_FOR_ENCODING.search(asked) is not None:
        return None
    return f"an encoded blob instead of an answer: {text[:40]}"
