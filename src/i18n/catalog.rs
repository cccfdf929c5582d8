//! English texts of problem details and their Simplified Chinese, as a city education bureau's
//! staff and departmental clerks read them: formal and short. Field names, enum values, header
//! names and the values a client sent stay as they are, in code font where the English has it.
//!
//! Placeholders: see [`super`]. `tests::every_client_visible_literal_is_translated` walks
//! `src/` and fails for a message that is missing here.

pub(super) const ENTRIES: &[(&str, &str)] = &[
    // --- Titles (the reason phrases of the statuses this API answers) ---
    ("Bad Request", "请求格式错误"),
    ("Unauthorized", "未认证"),
    ("Forbidden", "无权执行此操作"),
    ("Not Found", "资源不存在"),
    ("Method Not Allowed", "不支持该请求方法"),
    ("Not Acceptable", "无法提供所要求的格式"),
    ("Request Timeout", "请求超时"),
    ("Conflict", "冲突"),
    ("Gone", "资源已不存在"),
    ("Length Required", "缺少 Content-Length"),
    ("Precondition Failed", "资源已被修改"),
    ("Content Too Large", "请求体过大"),
    ("Payload Too Large", "请求体过大"),
    ("Unsupported Media Type", "不支持的内容类型"),
    ("Unprocessable Content", "校验未通过"),
    ("Unprocessable Entity", "校验未通过"),
    ("Precondition Required", "缺少前提条件"),
    ("Too Many Requests", "请求过于频繁"),
    ("Request Header Fields Too Large", "请求头过大"),
    ("Internal Server Error", "服务器内部错误"),
    ("Service Unavailable", "服务暂不可用"),
    // --- Regions and editions ---
    (
        "must be a six-digit administrative division code (GB/T 2260), e.g. 440981",
        "须为六位行政区划代码（GB/T 2260），例如 440981",
    ),
    (
        "must be a six-digit code, e.g. 440900",
        "须为六位代码，例如 440900",
    ),
    ("Error", "错误"),
    // --- src/error.rs ---
    (
        "this operation needs a bearer token",
        "此操作需要提供 Bearer 令牌",
    ),
    (
        "unknown username or wrong password",
        "用户名不存在或密码错误",
    ),
    ("no such resource", "资源不存在"),
    ("this resource answers {}", "该资源仅支持以下请求方法：{}"),
    (
        "the resource changed since you read it (If-Match does not match its ETag); GET it again",
        "资源在读取后已被修改（If-Match 与其 ETag 不一致），请重新获取后再操作",
    ),
    (
        "the request body is larger than {n} bytes",
        "请求体超过 {n} 字节",
    ),
    (
        "the request body did not arrive within {n} seconds",
        "请求体未在 {n} 秒内传输完毕",
    ),
    ("send the body as {}", "请求体须以 {} 格式发送"),
    ("the request has invalid fields", "请求中有字段未通过校验"),
    (
        "the database is unavailable; retry shortly",
        "数据库暂不可用，请稍后重试",
    ),
    (
        "an unexpected error occurred; it has been logged",
        "发生意外错误，已记录日志",
    ),
    (
        "a campaign with this slug exists",
        "已存在使用该 slug 的活动周",
    ),
    ("a unit with this name exists", "已存在同名单位"),
    ("an account with this username exists", "该用户名已被使用"),
    (
        "this unit is already a partner of the campaign",
        "该单位已是本届活动周的参与单位",
    ),
    (
        "a tally for this subject, category, measure, date and reporting unit exists; PUT /tallies replaces it",
        "该活动或培训在此类别、口径、日期和填报单位下的人数统计已存在；如需替换，请使用 PUT /tallies",
    ),
    (
        "a resource with these values exists",
        "已存在取值相同的资源",
    ),
    (
        "other records refer to this resource (or it refers to a missing one); remove those first",
        "有其他记录引用该资源（或该资源引用了不存在的记录），请先删除相关记录",
    ),
    ("violates a rule of the data model", "不符合数据规则"),
    (
        "concurrent update; retry the request",
        "存在并发更新，请重新提交请求",
    ),
    (
        "concurrent writes to the same rows; retry the request",
        "同一数据正被同时写入，请重新提交请求",
    ),
    (
        "a date, time or number is outside the range this API stores",
        "日期、时间或数值超出本系统可存储的范围",
    ),
    (
        "text must not contain NUL (\\u0000) characters",
        "文本不能包含 NUL（\\u0000）字符",
    ),
    // --- src/validate.rs ---
    ("must not be blank", "不能为空"),
    ("must be at most {n} characters", "不能超过 {n} 个字符"),
    ("must be at least {n} characters", "不能少于 {n} 个字符"),
    ("must be 1 to {n} characters", "长度须为 1 至 {n} 个字符"),
    ("must not contain control characters", "不能包含控制字符"),
    (
        "must be a single line without control characters",
        "须为单行文本，且不能包含控制字符",
    ),
    ("must have at most {n} entries", "不能超过 {n} 项"),
    ("is listed twice", "重复列出"),
    ("must be between {n} and {n}", "须在 {n} 至 {n} 之间"),
    (
        "must be between the years {n} and {n}",
        "年份须在 {n} 至 {n} 之间",
    ),
    ("must be between 0 and {}", "须在 0 至 {} 之间"),
    ("must not be before {}", "不能早于 {}"),
    ("must not exceed {}", "不能超过 {}"),
    ("must not be negative", "不能为负数"),
    ("is required", "为必填项"),
    ("cannot be changed", "不可修改"),
    // --- Tokens and sessions (src/auth, src/api/auth.rs, sessions.rs, tokens.rs) ---
    ("the token has expired", "令牌已过期"),
    ("the token's signature is invalid", "令牌签名无效"),
    (
        "the token must be signed with HS256",
        "令牌须使用 HS256 签名",
    ),
    (
        "the token was not issued by this API",
        "令牌并非由本系统签发",
    ),
    ("the token is malformed", "令牌格式错误"),
    (
        "the Authorization header is malformed",
        "Authorization 请求头格式错误",
    ),
    (
        "expected `Authorization: Bearer <token>`",
        "应为 `Authorization: Bearer <token>` 格式",
    ),
    ("the token is unknown", "令牌不存在"),
    ("the token has been revoked", "令牌已被吊销"),
    ("the account is disabled", "账户已停用"),
    (
        "the token does not match its record",
        "令牌与其登记信息不符",
    ),
    (
        "the refresh token is unknown, expired or revoked",
        "刷新令牌不存在、已过期或已被吊销",
    ),
    (
        "this refresh token was already used; its session has been revoked, log in again",
        "该刷新令牌已被使用，其所属会话已被吊销，请重新登录",
    ),
    (
        "too many failed logins for this username; try again later",
        "该用户名登录失败次数过多，请稍后再试",
    ),
    (
        "the server is busy checking other passwords; retry shortly",
        "服务器正忙于校验其他登录请求，请稍后重试",
    ),
    (
        "only the admin role may do this",
        "仅管理员（admin）角色可执行此操作",
    ),
    (
        "must be null for the admin role",
        "管理员（admin）角色须为 null",
    ),
    ("is required for this role", "该角色须填写此项"),
    ("must be in the future", "须为将来的时间"),
    ("must be within five years", "不能超过五年"),
    (
        "3 to 64 lowercase letters, digits, '.', '_' or '-'",
        "须为 3 至 64 个字符，仅限小写字母、数字、'.'、'_' 或 '-'",
    ),
    // --- Who may write what (src/auth/policy.rs): the role and the noun are translated ---
    ("the {t} role may not write {t}", "{t}角色无权写入{t}"),
    (
        "{t} of other units are not yours to write",
        "无权写入其他单位的{t}",
    ),
    ("admin", "管理员（admin）"),
    ("editor", "编辑（editor）"),
    ("reporter", "填报员（reporter）"),
    ("viewer", "查阅者（viewer）"),
    ("campaigns", "活动周"),
    ("units", "单位"),
    ("partners", "参与单位"),
    ("committee bodies", "组委会机构"),
    ("committee members", "组委会成员"),
    ("events", "活动"),
    ("trainings", "培训"),
    ("training outcome counts", "培训成效数据"),
    ("tallies", "人数统计"),
    ("media reports", "媒体报道"),
    ("tokens", "令牌"),
    ("accounts", "账户"),
    ("webhooks", "Webhook 订阅"),
    ("no unit", "该令牌不属于任何单位"),
    // --- HTTP conventions (src/http) ---
    ("malformed query string: {t}", "查询字符串格式错误：{t}"),
    ("malformed JSON: {t}", "JSON 格式错误：{t}"),
    ("cannot read the request body: {t}", "无法读取请求体：{t}"),
    (
        "has the wrong type (see the schema for the allowed values)",
        "类型错误（允许的取值见接口文档）",
    ),
    (
        "a merge patch must be a JSON object",
        "合并补丁（merge patch）须为 JSON 对象",
    ),
    (
        "cursor is not one this API handed out",
        "cursor 不是本系统返回的分页游标",
    ),
    ("cursor does not belong to this list", "cursor 不属于此列表"),
    (
        "Idempotency-Key must be 1 to 255 printable ASCII characters",
        "Idempotency-Key 须为 1 至 255 个可打印 ASCII 字符",
    ),
    (
        "a request with this Idempotency-Key is still being processed; retry shortly",
        "使用该 Idempotency-Key 的请求仍在处理中，请稍后重试",
    ),
    (
        "was already used with a different request; use a new key for a new request",
        "已用于另一个不同的请求；新请求请使用新的键",
    ),
    (
        "too many login attempts from this address; retry after Retry-After seconds",
        "该地址登录尝试过于频繁，请在 Retry-After 所示秒数后重试",
    ),
    (
        "too many requests; slow down and retry after Retry-After seconds",
        "请求过于频繁，请降低频率，并在 Retry-After 所示秒数后重试",
    ),
    (
        "too many feeds are being downloaded at once; retry shortly",
        "同时下载订阅源的请求过多，请稍后重试",
    ),
    // --- Resources (src/api) ---
    ("no such unit", "单位不存在"),
    ("no such campaign", "活动周不存在"),
    ("no such event", "活动不存在"),
    ("no such training", "培训不存在"),
    ("no such body in this campaign", "本届活动周中不存在该机构"),
    (
        "3 to 64 lowercase letters, digits and single dashes, e.g. gaozhou-2014",
        "须为 3 至 64 个字符，仅限小写字母、数字和单个连字符，例如 gaozhou-2014",
    ),
    (
        "must be an IANA time zone name such as Asia/Shanghai",
        "须为 IANA 时区名称，例如 Asia/Shanghai",
    ),
    (
        "unknown type `{}`; one of {}",
        "未知类型 `{}`，应为以下之一：{}",
    ),
    (
        "would make the body its own ancestor",
        "会使该机构成为其自身的上级机构",
    ),
    ("the committee is nested too deeply", "组委会机构层级过深"),
    ("is not an email address", "不是有效的电子邮箱地址"),
    ("at most {n} units", "最多 {n} 个单位"),
    ("is the host unit", "已是主办单位"),
    (
        "is not one of the campaign's areas",
        "不在本届活动周的覆盖区域内",
    ),
    ("belongs to another campaign", "属于其他活动周"),
    (
        "either outlet_unit_id or outlet_name is required",
        "outlet_unit_id 与 outlet_name 须至少填写一项",
    ),
    (
        "must be the outlet unit when the outlet is a unit",
        "媒体为登记单位时，须与媒体单位一致",
    ),
    (
        "must be an http(s) URL of at most {n} characters",
        "须为不超过 {n} 个字符的 http(s) 网址",
    ),
    (
        "only a co_host can be the lead",
        "只有主办单位（co_host）可以作为牵头单位",
    ),
    // --- Webhooks (src/api/webhooks) ---
    ("name at least one type", "须至少指定一种类型"),
    ("one of {}", "应为以下之一：{}"),
    (
        "must be whsec_ followed by base64 of 24 to 64 bytes",
        "须为 whsec_ 加上 24 至 64 字节内容的 base64 编码",
    ),
    (
        "a unit may have at most {n} webhooks",
        "每个单位最多可有 {n} 个 Webhook 订阅",
    ),
    (
        "the webhook's URL changed meanwhile; retry",
        "该 Webhook 的 URL 已被同时修改，请重试",
    ),
    ("is not a URL", "不是有效的 URL"),
    ("must be an http or https URL", "须为 http 或 https 网址"),
    ("has no host", "缺少主机名"),
    ("must not carry credentials", "不能包含用户名或密码"),
    ("host `{}` does not resolve", "无法解析主机 `{}`"),
    (
        "points to a loopback, private or otherwise non-public address",
        "指向环回地址、内网地址或其他非公网地址",
    ),
    (
        "`{}` resolves to no public address",
        "`{}` 未解析到任何公网地址",
    ),
    // --- Tallies: batch, CSV import, upsert (src/api/tallies) ---
    ("must hold at least one tally", "须至少包含一条人数统计"),
    (
        "must be a tally object, not {t}",
        "须为人数统计对象，而不是{t}",
    ),
    ("must be {t}, not {t}", "须为{t}，而不是{t}"),
    ("unknown field", "未知字段"),
    ("must not be null", "不能为 null"),
    ("a boolean", "布尔值"),
    ("a number", "数字"),
    ("a string", "字符串"),
    ("an array", "数组"),
    ("an object", "对象"),
    ("an id (a UUID string)", "ID（UUID 字符串）"),
    ("a whole number", "整数"),
    ("a date (YYYY-MM-DD)", "日期（YYYY-MM-DD）"),
    ("`{}` is not an id (a UUID)", "`{}` 不是有效的 ID（UUID）"),
    ("`{}` is not an id", "`{}` 不是有效的 ID"),
    (
        "`{}` is not a whole number up to {n}",
        "`{}` 不是不超过 {n} 的整数",
    ),
    ("`{}` is not a whole number", "`{}` 不是整数"),
    (
        "`{}` is not a date like 2014-10-19",
        "`{}` 不是有效日期（格式如 2014-10-19）",
    ),
    (
        "unknown value `{}`, expected one of: {}",
        "未知取值 `{}`，应为以下之一：{}",
    ),
    (
        "an object {{\"items\": [...]}}",
        "对象 {{\"items\": [...]}}",
    ),
    (
        "an array of at most {n} tallies",
        "不超过 {n} 条人数统计的数组",
    ),
    ("at most {n} tallies per batch", "每批最多 {n} 条人数统计"),
    ("the file is not valid {}", "文件不是有效的 {} 文本"),
    (
        "the file is neither UTF-8 nor GBK text",
        "文件既不是 UTF-8 也不是 GBK 编码的文本",
    ),
    ("cannot read the CSV header: {}", "无法读取 CSV 表头：{}"),
    ("malformed CSV: {}", "CSV 格式错误：{}"),
    ("at most {n} rows per file", "每个文件最多 {n} 行"),
    (
        "line {n} has {n} cells, the header {n}",
        "第 {n} 行有 {n} 个单元格，而表头有 {n} 列",
    ),
    ("the file has no data rows", "文件中没有数据行"),
    ("column `{}` appears twice", "列 `{}` 重复出现"),
    ("unknown column `{}`", "未知列 `{}`"),
    ("column {} is required", "缺少必需的列 {}"),
    (
        "an event_id/活动 or training_id/培训 column is required",
        "须包含 event_id/活动 或 training_id/培训 列",
    ),
    ("line {n}: {t}", "第 {n} 行：{t}"),
    ("line {n}: {} is required", "第 {n} 行：{} 为必填项"),
    ("unknown category `{}`", "未知类别 `{}`"),
    (
        "unknown measure `{}` (人数/headcount or 人次/person_times)",
        "未知口径 `{}`（应为 人数/headcount 或 人次/person_times）",
    ),
    ("`{}` names more than one unit", "`{}` 对应多个单位"),
    ("`{}` no such unit", "单位 `{}` 不存在"),
    ("names more than one unit", "对应多个单位"),
    (
        "exactly one of event_id and training_id is required",
        "event_id 与 training_id 须填写且只能填写一项",
    ),
    (
        "disagrees with the campaign of the event or training",
        "与活动或培训所属的活动周不一致",
    ),
    (
        "is required (admin tokens have no unit)",
        "为必填项（管理员令牌不属于任何单位）",
    ),
    ("could not be read", "无法读取"),
    ("another row", "另一行"),
    (
        "same subject, category, measure, date and unit as another row",
        "与另一行的活动或培训、类别、口径、日期和填报单位均相同",
    ),
    (
        "same subject, category, measure, date and unit as {}",
        "与 {} 的活动或培训、类别、口径、日期和填报单位均相同",
    ),
    (
        "not a unit this token may report for",
        "该令牌无权为此单位填报",
    ),
];
