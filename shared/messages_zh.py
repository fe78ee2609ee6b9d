"""The Chinese of every field error the services give (``message_zh`` beside ``message``).

Field errors come from marshmallow's and webargs's own messages and from the services' schemas,
in English; a clerk reads Chinese. One table for the JSON API and the spreadsheet reader alike,
so that the same mistake reads the same wherever it is made. A message the table does not know
gets the generic 格式错误 (a test keeps the services' own messages in the table).
"""
from __future__ import annotations

import re
from typing import Callable

_EXACT = {
    "Missing data for required field.": "必填项为空",
    "Must not be empty.": "必填项为空",
    "Field may not be null.": "必填项为空",
    "Unknown field.": "不认识的字段",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Special numeric values (nan or infinity) are not permitted.": "应为数字",
    "Not a valid date.": "不是有效日期（应为 yyyy-mm-dd，如 2016-12-31）",
    "Not a valid datetime.": "不是有效时间",
    "Not a valid string.": "应为文字",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid boolean (true or false).": "应为 true 或 false",
    "Not a valid list.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Invalid input type.": "类型错误",
    "Invalid value.": "取值无效",
    "String does not match expected pattern.": "格式不符合要求",
    "At most 4 decimal places.": "最多保留 4 位小数",
    "At most 2 decimal places.": "最多保留 2 位小数",
    "Must be greater than 0.": "必须大于 0",
    "Must not be in the future.": "不得晚于今日",
    "Must be a single line (no line breaks or tabs).": "应为单行文字，不能含换行或制表符",
    "Unknown region code (GB/T 2260).": "地区代码不在名录中（GB/T 2260）",
    "Not a capacity item id (e.g. 410100-2016-12-1).": "不是台账条目编号（如 410100-2016-12-1）",
    "The body must be a JSON object.": "请求体应为 JSON 对象",
    "A rejection needs a reason.": "不予通过须说明理由",
    "An amendment (更正) needs a reason.": "更正报告须说明理由",
    "A zero report (零报告) has no entries.": "零报告不得填写条目",
    "A registration form needs at least one entry; file a zero report if there is none.":
        "登记表至少填写一条；如无落后产能，请报送零报告",
    "A confirmed tip enters its capacity on the ledger: give the entry.": "举报属实须填写所涉产能条目",
    "Name the tip this one repeats.": "重复举报须注明原举报",
    "A webhook is an http(s) URL.": "Webhook 地址应为 http(s) 网址",
    "Not an e-mail address.": "不是有效的电子邮件地址",
    "Missing file.": "未上传文件",
    "Not a telephone number.": "不是有效的电话号码",
    "A correction needs a reason.": "更正须说明理由",
}
_USCC = {
    "checksum or check digit": "统一社会信用代码校验位错误",
    "invalid length": "统一社会信用代码应为 18 位",
    "invalid format": "统一社会信用代码含有不允许的字符",
    "parts of the number": "统一社会信用代码的组成部分无效",
}
_PATTERNS: tuple[tuple[re.Pattern, Callable[[re.Match], str]], ...] = (
    (re.compile(r"Must be one of: (.*)\."), lambda m: "不在可选范围内：" + m[1].replace(", ", "、")),
    (re.compile(r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\."),
     lambda m: f"应在 {m[1]} 到 {m[2]} 之间"),
    (re.compile(r"Must be between (\S+) and (\S+)\."), lambda m: f"应在 {m[1]} 到 {m[2]} 之间"),
    (re.compile(r"Must be greater than or equal to (\S+)\."), lambda m: f"不得小于 {m[1]}"),
    (re.compile(r"Must be less than or equal to (\S+)\."), lambda m: f"不得大于 {m[1]}"),
    (re.compile(r"Must be greater than (\S+)\."), lambda m: f"必须大于 {m[1]}"),
    (re.compile(r"Must be less than (\S+)\."), lambda m: f"必须小于 {m[1]}"),
    (re.compile(r"Longer than (\d+) characters\."), lambda m: f"超过 {m[1]} 个字符"),
    (re.compile(r"Longer than maximum length (\d+)\."), lambda m: f"超过 {m[1]} 个字符"),
    (re.compile(r"Shorter than minimum length (\d+)\."), lambda m: f"不足 {m[1]} 个字符"),
    (re.compile(r"Length must be between (\d+) and (\d+)\."), lambda m: f"长度应在 {m[1]} 到 {m[2]} 之间"),
    (re.compile(r"(.+) capacity is registered in (.+), not (.+)\."), lambda m: f"{m[1]}的产能单位应为{m[2]}，不是{m[3]}"),
    (re.compile(r"Contains a control character \((U\+[0-9A-F]+)\)\."), lambda m: f"含有控制字符（{m[1]}）"),
    (re.compile(r"Contains an invalid character \(lone surrogate (U\+[0-9A-F]+)\)\."),
     lambda m: f"含有无效字符（孤立代理项 {m[1]}）"),
    (re.compile(r"Contains a noncharacter \((U\+[0-9A-F]+)\)\."), lambda m: f"含有非字符码位（{m[1]}）"),
    (re.compile(r"not an ISO 8601 time with a UTC offset.*"), lambda m: "不是带时区的 ISO 8601 时间"),
)
GENERIC = "格式错误"


def zh(message: str) -> str:
    """The Chinese of a field error's English message; 格式错误 for one the table does not know."""
    if message in _EXACT:
        return _EXACT[message]
    if message.startswith("Not a valid unified social credit code"):
        return next((text for key, text in _USCC.items() if key in message), "统一社会信用代码无效")
    for pattern, translate in _PATTERNS:
        match = pattern.fullmatch(message)
        if match:
            return translate(match)
    return GENERIC
