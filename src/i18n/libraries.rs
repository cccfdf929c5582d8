//! What other crates put into messages that reach clients: serde's and serde_json's errors
//! (JSON bodies, query strings), uuid's and chrono's parse errors, std's number parsing.
//! Their wording may change with a crate's version (a changed text stays English, nothing
//! breaks); `tests::what_the_libraries_say_is_translated` produces them with the versions in
//! `Cargo.lock` and fails when one is no longer translated.

pub(super) const ENTRIES: &[(&str, &str)] = &[
    // serde: what reaches clients from JSON bodies and query strings.
    (
        "invalid type: {t}, expected {t}",
        "类型错误：收到{t}，应为{t}",
    ),
    (
        "invalid value: {t}, expected {t}",
        "取值无效：收到{t}，应为{t}",
    ),
    (
        "invalid length {n}, expected {t}",
        "长度无效：收到 {n} 项，应为{t}",
    ),
    (
        "unknown variant `{}`, expected one of {}",
        "未知取值 `{}`，应为以下之一：{}",
    ),
    (
        "unknown variant `{}`, expected {t}",
        "未知取值 `{}`，应为{t}",
    ),
    (
        "unknown variant `{}`, there are no variants",
        "未知取值 `{}`，此处没有可选取值",
    ),
    (
        "unknown field `{}`, expected one of {}",
        "未知字段 `{}`，应为以下之一：{}",
    ),
    ("unknown field `{}`, expected {t}", "未知字段 `{}`，应为{t}"),
    (
        "unknown field `{}`, there are no fields",
        "未知字段 `{}`，此处不接受任何字段",
    ),
    ("missing field `{}`", "缺少字段 `{}`"),
    ("duplicate field `{}`", "字段 `{}` 重复"),
    ("`{}` or `{}`", "`{}` 或 `{}`"),
    ("expected unit variant", "应为不带内容的枚举值"),
    // What serde was given (`Unexpected`).
    ("boolean `{}`", "布尔值 `{}`"),
    ("integer `{}`", "整数 `{}`"),
    ("floating point `{}`", "浮点数 `{}`"),
    ("character `{}`", "字符 `{}`"),
    ("string {}", "字符串 {}"),
    ("byte array", "字节数组"),
    ("unit value", "空值"),
    ("null", "空值（null）"),
    ("Option value", "可选值"),
    ("newtype struct", "包装类型"),
    ("sequence", "数组"),
    ("map", "对象"),
    ("enum", "枚举"),
    ("unit variant", "枚举值"),
    ("newtype variant", "枚举值"),
    ("tuple variant", "枚举值"),
    ("struct variant", "枚举值"),
    // What serde wanted (`expecting`).
    ("a character", "单个字符"),
    ("a sequence", "数组"),
    ("a map", "对象"),
    ("option", "可选值"),
    ("unit", "空值"),
    ("string or map", "字符串或对象"),
    ("any valid JSON value", "合法的 JSON 值"),
    ("struct {}", "{} 对象"),
    ("i8", "整数"),
    ("i16", "整数"),
    ("i32", "整数"),
    ("i64", "整数"),
    ("u8", "非负整数"),
    ("u16", "非负整数"),
    ("u32", "非负整数"),
    ("u64", "非负整数"),
    ("f32", "数字"),
    ("f64", "数字"),
    (
        "an RFC 3339 formatted date and time string",
        "RFC 3339 格式的日期时间字符串",
    ),
    ("a formatted date string", "日期字符串（YYYY-MM-DD）"),
    ("a formatted date and time string", "日期时间字符串"),
    ("a formatted UUID string", "UUID 字符串"),
    // serde_json's syntax errors.
    ("EOF while parsing a list", "解析数组时内容意外结束"),
    ("EOF while parsing an object", "解析对象时内容意外结束"),
    ("EOF while parsing a string", "解析字符串时内容意外结束"),
    ("EOF while parsing a value", "解析值时内容意外结束"),
    ("expected `:`", "此处应为 `:`"),
    ("expected `,` or `]`", "此处应为 `,` 或 `]`"),
    ("expected `,` or `}}`", "此处应为 `,` 或 `}}`"),
    ("expected ident", "此处应为标识符"),
    ("expected value", "此处应为 JSON 值"),
    ("expected `\"`", "此处应为 `\"`"),
    ("invalid escape", "转义序列无效"),
    ("invalid number", "数字无效"),
    ("number out of range", "数字超出范围"),
    ("invalid unicode code point", "Unicode 码位无效"),
    (
        "control character (\\u0000-\\u001F) found while parsing a string",
        "字符串中含有控制字符（\\u0000-\\u001F）",
    ),
    ("key must be a string", "对象的键须为字符串"),
    (
        "invalid value: expected key to be a number in quotes",
        "取值无效：键应为带引号的数字",
    ),
    (
        "float key must be finite (got NaN or +/-inf)",
        "浮点数键须为有限值（收到 NaN 或 +/-inf）",
    ),
    (
        "lone leading surrogate in hex escape",
        "十六进制转义中有孤立的前导代理项",
    ),
    ("trailing comma", "多余的尾随逗号"),
    ("trailing characters", "JSON 之后有多余字符"),
    ("unexpected end of hex escape", "十六进制转义意外结束"),
    ("recursion limit exceeded", "嵌套层数超过上限"),
    // uuid's parse errors (`UUID parsing failed: ...`).
    ("UUID parsing failed: {t}", "UUID 解析失败：{t}"),
    (
        "invalid character: found `{}` at {n}",
        "位置 {1} 处的字符 `{0}` 无效",
    ),
    (
        "invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `{}` at {n}",
        "位置 {1} 处的字符 `{0}` 无效：应为可选前缀 `urn:uuid:` 加上 [0-9a-fA-F-]",
    ),
    (
        "invalid length: expected 16 bytes, found {n}",
        "长度无效：应为 16 字节，实际为 {n}",
    ),
    (
        "invalid group count: expected 5, found {n}",
        "分组数无效：应为 5 组，实际为 {n} 组",
    ),
    (
        "invalid group length in group {n}: expected {n}, found {n}",
        "第 {n} 组长度无效：应为 {n}，实际为 {n}",
    ),
    ("invalid length: found {n}", "长度无效：实际为 {n}"),
    ("non-UTF8 input", "输入不是有效的 UTF-8"),
    ("the UUID is nil", "UUID 不能为全零"),
    ("failed to parse a UUID", "无法解析 UUID"),
    // chrono's parse errors.
    ("input is out of range", "输入超出范围"),
    (
        "no possible date and time matching input",
        "输入不是有效的日期时间",
    ),
    (
        "input is not enough for unique date and time",
        "输入不足以确定唯一的日期时间",
    ),
    ("input contains invalid characters", "输入含有无效字符"),
    ("premature end of input", "输入不完整"),
    ("trailing input", "输入末尾有多余内容"),
    (
        "bad or unsupported format string",
        "格式字符串有误或不受支持",
    ),
    // std's number parsing (query strings).
    ("invalid digit found in string", "含有无效的数字字符"),
    (
        "cannot parse integer from empty string",
        "不能从空字符串解析整数",
    ),
    ("number too large to fit in target type", "数值过大"),
    ("number too small to fit in target type", "数值过小"),
    ("number would be zero for non-zero type", "数值不能为零"),
    ("invalid float literal", "数字格式无效"),
    (
        "cannot parse float from empty string",
        "不能从空字符串解析数字",
    ),
    (
        "provided string was not `true` or `false`",
        "取值应为 `true` 或 `false`",
    ),
];
