"""Intake's operations in the agencies' contract: Chinese summaries and realistic examples
(shared/contract.py adds security, problem answers, headers and units to every operation)."""
from __future__ import annotations

from shared.contract import Operation

SUBMISSION = "sub_5f3c2a9e7b1d4c08a6e2f41b9d7c3e10"
ACCEPTED = {"submission_id": SUBMISSION, "status": "pending", "status_url": f"/v1/submissions/{SUBMISSION}"}
ENTRY = {"enterprise": "河南省第1钢铁有限公司", "uscc": "91410100AY4CL12THU", "county": "中牟县", "industry": "炼钢",
         "equipment": "30吨转炉", "equipment_count": 2, "capacity": "12.5", "unit": "万吨",
         "target_source": "大气污染防治", "planned_date": "2016-12-31", "method": "拆除", "workers_affected": 120,
         "remarks": "两座转炉同日拆除"}
REPORT = {"region": "410100", "year": 2016, "document_no": "郑政文〔2016〕100号", "signed_by": "张三",
          "zero_report": False, "entries": [ENTRY]}
UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["region", "year", "document_no", "signed_by", "file"], "properties": {
        "region": {"type": "string", "pattern": "^[0-9]{6}$", "example": "410100"},
        "year": {"type": "integer", "example": 2016},
        "document_no": {"type": "string", "example": "郑政文〔2016〕100号"},
        "signed_by": {"type": "string", "example": "张三"},
        "amendment": {"type": "boolean", "default": False},
        "reason": {"type": "string", "description": "why an amendment replaces the filed report"},
        "file": {"type": "string", "format": "binary",
                 "description": "the filled-in registration form (.xlsx, as downloaded from /v1/forms/registration.xlsx)"},
    }},
    "encoding": {"file": {"contentType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}},
}}}
FORM_ERRORS = {"type": "urn:zeroclear:problem:form-errors", "title": "The form has errors", "status": 422,
               "detail": "1 problem(s); nothing was recorded",
               "errors": [{"field": "entries[0].uscc", "row": 6, "column": "C", "header": "统一社会信用代码",
                           "message": "Not a valid unified social credit code", "message_zh": "统一社会信用代码校验位错误"}]}

ANONYMOUS_KEY = {
    "schema": {"type": "string", "minLength": 32, "maxLength": 200, "pattern": r"^[\x21-\x7e]+$"},
    "description": "Makes the retry of an anonymous tip safe: 32 to 200 random visible ASCII characters (a UUID "
                   "will do), since nothing else binds a retry to its sender. The same key with the very same tip "
                   "answers the first tip's receipt again; the same key with another tip is simply another tip "
                   "(the answer never tells whether someone else used a key). Anything shorter is a 400."}

OPERATIONS = {
    "file_report": Operation(zh="报送年度排查登记表或零报告", request=REPORT, response=ACCEPTED, idempotent=True, location=True),
    "submission": Operation(zh="查询报送状态（待处理、已记账或被退回）", response={
        "submission_id": SUBMISSION, "kind": "report", "region": "410100", "year": 2016, "status": "recorded",
        "submitted_at": "2016-11-15T02:30:00.000000Z", "decided_at": "2016-11-15T02:30:01.000000Z", "seq": 1024,
        "hash": "9f2c6d0e4b7a1c3e5d8f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b9c1d", "stream": "report:410100:2016",
        "reasons": None, "attempts": 1, "stalled": False}),
    "registration_form": Operation(
        zh="下载空白排查登记表（含下拉选项）",
        response_media="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "upload_report": Operation(zh="以电子表格上传排查登记表", request_body=UPLOAD_BODY, response=ACCEPTED,
                               idempotent=True, location=True,
                               errors={422: "The form has errors: every bad cell with its row as the sheet shows it, "
                                            "its column letter and header (example), or a bad field; nothing recorded."}),
    "department_list": Operation(zh="报送部门清单（环保、节能、质量、安全）", idempotent=True, location=True, response=ACCEPTED, request={
        "year": 2016, "entries": [{"enterprise": "郑州市宏达水泥有限公司", "uscc": "91410100AY4CL12THU", "region": "410100",
                                   "industry": "水泥", "basis": "emissions", "detail": "2016年二季度在线监测超标"}]}),
    "elimination": Operation(zh="报告淘汰完成", idempotent=True, location=True, response=ACCEPTED, request={
        "item_id": "410100-2016-12-1", "eliminated_on": "2016-12-20", "method": "拆除",
        "evidence": "拆除验收报告 郑工信〔2016〕58号", "workers_resettled": 120}),
    "verification": Operation(zh="省办核查淘汰结果", idempotent=True, location=True, response=ACCEPTED, request={
        "item_id": "410100-2016-12-1", "decision": "verified", "reason": "现场核查：设备已拆除"}),
    "tip_resolution": Operation(zh="办结群众举报", idempotent=True, location=True, response=ACCEPTED, request={
        "resolution": "unfounded", "explanation": "经现场核查，该企业已于2016年6月关停"}),
    "file_tip": Operation(zh="群众匿名举报", idempotent=ANONYMOUS_KEY, rate_limited=True, request={
        "region": "410100", "enterprise": "郑州市某铸造厂", "location": "郑州市中牟县官渡镇",
        "description": "夜间仍在生产，烟囱冒黑烟", "contact": ""}, response={
        "tip_id": "tip_3e1f5a7c9b2d4e6f", "region": "410100", "status": "pending", "explanation": None,
        "resolved_at": None, "receipt": "R-7Q4K-9M2X-PL3D-8WZT"}),
    "lookup_tip": Operation(zh="凭回执查询举报办理情况", rate_limited=True, request={"receipt": "R-7Q4K-9M2X-PL3D-8WZT"},
                            response={"tip_id": "tip_3e1f5a7c9b2d4e6f", "region": "410100", "status": "unfounded",
                                      "explanation": "经现场核查，该企业已于2016年6月关停",
                                      "resolved_at": "2016-12-01T06:00:00.000000Z"}),
    "signing_key": Operation(zh="举报回执签名公钥", response={
        "alg": "Ed25519", "key_id": "k2016a", "public_key": "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
        "previous": []}),
}
