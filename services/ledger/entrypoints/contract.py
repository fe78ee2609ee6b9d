"""The ledger's operations in the agencies' contract: Chinese summaries and examples
(shared/contract.py adds security, problem answers, headers and units to every operation)."""
from __future__ import annotations

from shared.contract import Operation
from shared.topology import Topology

OPERATIONS = {
    "events": Operation(zh="事件流：某位置之后已记账的事件（补缺口用）"),
    "verify": Operation(zh="重算整条哈希链，公开核验"),
    "verify_segment": Operation(zh="分段校验哈希链：从上一段核验到的位置继续，可显示进度"),
    "topology": Operation(zh="消息代理拓扑：机构如何订阅已记账事件（详见 /asyncapi.json）",
                          response=Topology().describe()),
    "items": Operation(zh="产能台账条目（分页，可按时点查询）"),
    "item_counts": Operation(zh="产能台账条目分组计数（按地区、行业、年度或状态，可按时点查询）", response={
        "group_by": "region", "counts": [{"key": "410100", "count": 150, "overdue": 12},
                                         {"key": "410200", "count": 98, "overdue": 0}],
        "total": 248, "overdue": 12, "as_of": "2026-03-01T02:00:00.000000Z", "seq": 52188}),
    "item": Operation(zh="单条产能台账条目"),
    "item_history": Operation(zh="台账条目的全部记账事件"),
    "tip_list": Operation(zh="群众举报及办理结果（分页）"),
    "tip_counts": Operation(zh="群众举报分组计数（按地区或办理状态；含超期未办结数）", response={
        "group_by": "region", "counts": [{"key": "410100", "count": 7, "overdue": 2},
                                         {"key": "410300", "count": 3, "overdue": 0}],
        "total": 10, "overdue": 2, "as_of": "2026-03-01T02:00:00.000000Z", "seq": 52188}),
    "tip_lookup": Operation(zh="单条举报及办理结果"),
    "discrepancy_list": Operation(zh="部门清单与地方报表不一致（漏报）"),
    "resurgence_list": Operation(zh="死灰复燃：已核销产能被再次举报或列入清单"),
    "report_registry": Operation(zh="年度报表登记簿（报送情况、完整率）"),
    "state": Operation(zh="投影摘要（与重放结果比对）"),
    "snapshot_list": Operation(zh="投影快照及其摘要"),
    "audit_events": Operation(zh="审计：按类型、地区、流、时间筛选台账事件（分页）"),
    "registry_at_position": Operation(zh="审计：某一台账位置时的报表登记簿"),
    "audit_export": Operation(zh="审计：导出整条台账（流式，含检查点），可离线核验", response=(
        '{"seq":1,"id":"…","type":"ledger.year_opened.v1","payload":{"year":2016},"hash":"…"}\n'
        '{"checkpoint":{"format":"zeroclear-ledger-export/1","count":1,"head":"…","root":"…","note":"…"}}\n'),
        response_media="application/x-ndjson"),
    "list_checkpoints": Operation(zh="已签名的检查点（默克尔树规模与根哈希）"),
    "take_checkpoint": Operation(zh="立即签发当前台账（或某一规模）的检查点", request={"size": 1200}),
    "latest_checkpoint": Operation(zh="最新签名检查点：请留存，作为日后核验的凭据"),
    "checkpoint_of": Operation(zh="指定规模的签名检查点"),
    "signing_keys": Operation(zh="台账签名公钥（当前及已轮换的）"),
    "inclusion": Operation(zh="包含证明：某事件在签名检查点之内"),
    "consistency": Operation(zh="一致性证明：新检查点延续旧检查点，未被改写"),
}
