"""The `ris` section of a lab's scenario (sandbox/scenario.py delegates to it).

    ris:
      policy: {home_issuer: ACADEMY_GH, update_policy: apply}   # or flag
      procedures:                       # the partition's procedure-code table
        - {code: CTHEAD, modality: CT, description: "CT HEAD", station_ae: LAB1_CT}
      endpoints:                        # where outbound HL7 goes
        - {name: PLACER, host: 127.0.0.1, port: 2576}
      messages:                         # HL7 delivered in order; each must be accepted (AA)
        - "MSH|^~\\&|HIS|GH|RIS|{code}|...\r..."   # {code} becomes the partition code

Validation raises ScenarioError naming the path (e.g. "ris.procedures[0].modality").
"""

from __future__ import annotations

_RIS = {"policy", "procedures", "endpoints", "messages"}
_POLICY = {"home_issuer", "update_policy"}
_PROCEDURE = {"code", "modality", "description", "station_ae"}
_ENDPOINT = {"name", "host", "port", "description"}


def validate(section, error) -> dict:
    """`error` is ScenarioError (passed in to avoid an import cycle)."""
    def keys(where, item, allowed):
        if not isinstance(item, dict):
            raise error(f"{where}: expected a mapping, got {type(item).__name__}")
        if unknown := set(item) - allowed:
            raise error(f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(allowed)}")
        return item

    def items(where, value):
        if not isinstance(value, list):
            raise error(f"{where}: expected a list")
        return value

    section = keys("ris", section or {}, _RIS)
    policy = keys("ris.policy", section.get("policy", {}), _POLICY)
    if policy.get("update_policy", "apply") not in ("apply", "flag"):
        raise error("ris.policy.update_policy: apply or flag")
    for i, p in enumerate(items("ris.procedures", section.get("procedures", []))):
        p = keys(f"ris.procedures[{i}]", p, _PROCEDURE)
        for req in ("code", "modality"):
            if not isinstance(p.get(req), str):
                raise error(f"ris.procedures[{i}].{req}: required text")
    for i, e in enumerate(items("ris.endpoints", section.get("endpoints", []))):
        e = keys(f"ris.endpoints[{i}]", e, _ENDPOINT)
        for req in ("name", "host", "port"):
            if req not in e:
                raise error(f"ris.endpoints[{i}]: missing {req}")
        if isinstance(e["port"], bool) or not isinstance(e["port"], int) \
                or not 1 <= e["port"] <= 65535:
            raise error(f"ris.endpoints[{i}].port: an integer 1-65535")
    for i, m in enumerate(items("ris.messages", section.get("messages", []))):
        if not isinstance(m, str) or not m.strip():
            raise error(f"ris.messages[{i}]: an HL7 message as text")
    return section


def apply(sb, code: str, section: dict, error) -> dict:
    if policy := section.get("policy"):
        sb.set_ris_policy(code, **policy)
    for p in section.get("procedures", []):
        sb.set_procedure(code, p["code"], modality=p["modality"],
                         description=p.get("description", ""), station_ae=p.get("station_ae", ""))
    for e in section.get("endpoints", []):
        sb.add_hl7_endpoint(code, e["name"], e["host"], e["port"], e.get("description", ""))
    acks = []
    for i, m in enumerate(section.get("messages", [])):
        result = sb.send_hl7(code, m.replace("{code}", code))
        if result.code != "AA":
            raise error(f"ris.messages[{i}]: answered {result.code}: "
                        f"{(result.error or {}).get('reason', '')}")
        acks.append(result.code)
    return {"hl7_messages": len(acks)}
