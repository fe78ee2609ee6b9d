"""The assessment's operations in the agencies' contract: Chinese summaries and examples
(shared/contract.py adds security, problem answers, headers and units to every operation)."""
from __future__ import annotations

from shared.contract import Operation

SUBMISSION = "sub_8a1d3f5b7c9e4a2b6d8f0c1e3a5b7d9f"
ACCEPTED = {"submission_id": SUBMISSION, "status": "pending", "status_url": f"/v1/submissions/{SUBMISSION}"}
AS_OF = {409: "as_of names a position the assessment has not followed yet (errors: query:as_of, at most the head)"}

OPERATIONS = {
    "year_assessment": Operation(zh="全省各地区年度考核（五项指标、等次、是否清零）", errors=AS_OF),
    "summary": Operation(zh="全省汇总：清零地区、分行业淘汰与核查产能、排名", errors=AS_OF),
    "region_assessment": Operation(zh="单个地区的年度考核", errors=AS_OF),
    "assessment_input": Operation(zh="省办录入第2、3项指标得分", idempotent=True, response=ACCEPTED, request={
        "region": "410100", "year": 2016, "criterion": 2, "score": "85.5", "note": "组织领导有力，协调机制健全"}),
    "publish": Operation(zh="发布年度考核结果（或更正已发布结果）", idempotent=True, request={}, errors={
        409: "Nothing published: office inputs are missing (`missing`: each region and its criteria), the year is "
             "published already (`published`: the official one; a correction names it in `corrects` and says why), "
             "or there is nothing to correct."}),
    "submission": Operation(zh="查询录入或发布的记账状态"),
}
