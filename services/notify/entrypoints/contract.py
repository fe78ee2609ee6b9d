"""Notify's operations in the agencies' contract: Chinese summaries and examples
(shared/contract.py adds security, problem answers, headers and units to every operation)."""
from __future__ import annotations

from shared.contract import Operation

OPERATIONS = {
    "page": Operation(zh="社会公示（网页）"),
    "data_json": Operation(zh="社会公示开放数据（JSON）"),
    "data_csv": Operation(zh="社会公示企业名单（CSV）"),
    "summary_json": Operation(zh="社会公示汇总数字（JSON）"),
    "list_alerts": Operation(zh="已发出的预警"),
    "check_now": Operation(zh="立即检查到期事项并发出预警"),
    "run_schedule": Operation(zh="立即执行一次定时任务"),
    "issue": Operation(zh="按需发布通报", request={"year": 2016, "period": "2016-11", "document_no": "豫清零办〔2016〕12号"},
                       errors={409: "The circular cannot be issued (its period or position is refused)",
                               503: "The assessment has not followed the log to the position yet: retry after Retry-After"},
                       also={200: "Issued already at this position: the same circular, bytes and all (not issued twice)"}),
    "list_circulars": Operation(zh="已发布的通报"),
    "document": Operation(zh="通报文件（JSON、HTML 或 PDF）",
                          response_media=("application/json", "text/html", "application/pdf"),
                          errors={503: "The PDF cannot be rendered: no CJK font on the server"}),
    "subscribe": Operation(zh="机构订阅（邮件或 Webhook）", request={
        "agency": "郑州市生态环境局", "region": "410100", "channel": "webhook",
        "address": "https://hooks.example.gov.cn/zeroclear", "topics": ["alerts", "circulars"]}),
    "subscriptions": Operation(zh="订阅列表"),
    "unsubscribe": Operation(zh="取消订阅"),
    "deliveries": Operation(zh="投递记录"),
    "redrive": Operation(zh="重新投递死信", errors={409: "The delivery is not dead-lettered"}),
}
