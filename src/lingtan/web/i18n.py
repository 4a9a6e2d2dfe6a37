"""Words of the dashboard in simplified Chinese (default) and English.

Every label a page shows comes from :data:`STRINGS`; carriers, meter roles and units have their
own tables (units: :data:`lingtan.units.UNIT_LABELS`).  A key missing from a language falls back to Chinese, then to the key itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "app_name": "零碳 · 园区能碳管理平台",
        "login": "登录",
        "logout": "退出",
        "username": "用户名",
        "password": "密码",
        "login_failed": "用户名或密码错误",
        "switch_lang": "English",
        "park_overview": "园区总览",
        "nav_carbon": "碳核算",
        "nav_grid": "绿电溯源",
        "enterprise": "企业",
        "enterprises": "入园企业",
        "name": "名称",
        "uscc": "统一社会信用代码",
        "industry": "行业代码",
        "key_emitter": "重点排放单位",
        "yes": "是",
        "no": "否",
        "data_as_of": "数据日期",
        "date": "日期",
        "month": "月份",
        "apply": "查看",
        "day_energy": "当日能耗",
        "month_energy": "当月能耗",
        "carrier": "能源品种",
        "quantity": "实物量",
        "tce": "折标煤",
        "completeness": "数据完整率",
        "missing": "数据缺失",
        "no_meters": "无计量表",
        "load_curve": "小时负荷曲线",
        "load_kw": "负荷 (kW)",
        "hour": "时刻",
        "source_shares": "电力来源构成",
        "source": "来源",
        "energy": "电量",
        "share": "占比",
        "grid": "电网购电",
        "onsite": "厂内发电自用",
        "direct_green": "绿电直连",
        "storage_net": "储能净放电",
        "sources_total": "用电量（各项之和）",
        "meter_completeness": "计量表数据完整率",
        "meter": "计量表",
        "meters": "计量表",
        "code": "编号",
        "role": "用途",
        "unit": "单位",
        "interval": "采集间隔",
        "minutes": "分钟",
        "reading_kind": "读数类型",
        "register": "累计读数",
        "interval_value": "区间量",
        "present_expected": "已到/应到",
        "hours_missing": "缺失小时",
        "monthly_energy": "逐月能耗",
        "monthly_tce": "逐月折标煤 (tce)",
        "year": "年度",
        "import_history": "数据导入记录",
        "batch": "批次",
        "file": "文件",
        "imported_at": "导入时间",
        "accepted": "新增",
        "unchanged": "未变",
        "revised": "修订",
        "rejected": "拒收",
        "rejected_rows": "拒收数据行",
        "row": "行号",
        "field": "字段",
        "reason": "原因",
        "none": "无",
        "not_found": "未找到",
        "not_found_text": "页面不存在，或您无权查看。",
        "back_home": "返回首页",
        "parks": "园区",
        "no_park": "尚无园区。",
        "bad_date": "日期格式应为 YYYY-MM-DD，已改用默认数据日期。",
        "total": "合计",
        # carbon inputs page (lingtan.web.inputs_page)
        "inputs_title": "碳核算输入数据",
        "inputs_link": "录入与查看核算输入数据（产量、实测参数、绿电合同）",
        "back_to_carbon": "返回碳排放核算",
        "inputs_intro": "原铝产量用于电解铝过程排放，燃料实测参数用于化石燃料燃烧排放，"
        "绿电合同用于基于市场的范围二排放。",
        "inputs_rule": "同一企业、同一期间（实测参数还须同一燃料）有多条原铝产量或实测参数记录时，"
        "核算采用最新一条，且整条采用：新记录中留空的参数取缺省值，不沿用旧记录的数值。"
        "旧记录保留在列表中，标明被哪条记录取代。月度记录与全年记录属于不同期间，互不取代。"
        "绿电合同同一期间只录入一条，更正时勾选“更正”。",
        "col_status": "状态",
        "status_in_use": "在用",
        "status_replaces": "在用，取代记录 {ids}",
        "status_superseded": "已被记录 {id} 取代",
        "status_not_used": "不采用：非原铝冶炼企业",
        "list_sep": "、",
        "production_title": "原铝产量（原铝冶炼企业）",
        "measured_title": "燃料实测参数",
        "contracts_title": "绿电交易合同",
        "col_record": "记录号",
        "col_period": "期间",
        "col_reference": "依据",
        "col_recorded_at": "录入时间",
        "whole_year": "全年",
        "field_enterprise": "企业",
        "field_year": "年份",
        "field_month": "月份",
        "field_aluminium_t": "原铝产量 (t)",
        "field_anode_net_consumption_t": "阳极净耗量 (t)",
        "field_anode_sulfur_fraction": "阳极硫分（质量分数，0–1）",
        "field_anode_ash_fraction": "阳极灰分（质量分数，0–1）",
        "field_cf4_kg_per_t_al": "CF₄ 排放因子 (kg/t Al)",
        "field_c2f6_kg_per_t_al": "C₂F₆ 排放因子 (kg/t Al)",
        "field_reference": "依据（检测报告、监测记录）",
        "field_fuel": "燃料",
        "field_activity_unit": "计量单位",
        "field_ncv_gj_per_unit": "低位发热量 (GJ/单位)",
        "field_carbon_content_tc_per_tj": "单位热值含碳量 (tC/TJ)",
        "field_oxidation_rate": "碳氧化率（0–1）",
        "field_mwh": "绿电电量 (MWh)",
        "field_contract_ref": "合同编号",
        "field_replace": "更正该合同同一期间的已有记录",
        "default_value": "缺省值",
        "measured_optional": "实测值，留空则采用 IPCC 2006 缺省值；填写实测值时须注明依据。",
        "measured_needs_one": "至少填写一项实测参数；蒸汽填写焓值 (GJ/t)。",
        "unit_default": "留空为该燃料的缺省单位",
        "steam_enthalpy": "蒸汽（焓值，GJ/t）",
        "save": "保存",
        "saved_record": "已保存：记录 {id}",
        "read_only_note": "您的角色只能查看这些记录，不能录入。",
        "no_smelter_note": "您可录入的企业中没有原铝冶炼企业（GB/T 4754-2017 C3216），无需填报原铝产量。",
        "no_records": "无记录",
        "input_error_ValidationError": "输入有误",
        "input_error_UnitError": "单位有误",
        "input_error_ConflictError": "与已有记录冲突",
        "input_error_TenantAccessError": "无权录入",
        "input_error_NotFoundError": "未找到",
        "input_error": "{kind}：{message}",
        "input_error_field": "{kind}（{field}）：{message}",
    },
    "en": {
        "app_name": "Lingtan · zero-carbon park energy & carbon",
        "login": "Log in",
        "logout": "Log out",
        "username": "User name",
        "password": "Password",
        "login_failed": "Wrong user name or password",
        "switch_lang": "中文",
        "park_overview": "Park overview",
        "nav_carbon": "Carbon",
        "nav_grid": "Grid tracing",
        "enterprise": "Enterprise",
        "enterprises": "Enterprises",
        "name": "Name",
        "uscc": "Unified social credit code",
        "industry": "Industry code",
        "key_emitter": "Key emitter",
        "yes": "yes",
        "no": "no",
        "data_as_of": "Data as of",
        "date": "Date",
        "month": "Month",
        "apply": "Show",
        "day_energy": "Energy on the day",
        "month_energy": "Energy in the month",
        "carrier": "Carrier",
        "quantity": "Quantity",
        "tce": "Standard coal",
        "completeness": "Completeness",
        "missing": "missing",
        "no_meters": "no meters",
        "load_curve": "Hourly load curve",
        "load_kw": "Load (kW)",
        "hour": "Hour",
        "source_shares": "Electricity by source",
        "source": "Source",
        "energy": "Energy",
        "share": "Share",
        "grid": "Grid import",
        "onsite": "On-site generation (self-used)",
        "direct_green": "Direct green supply",
        "storage_net": "Storage net discharge",
        "sources_total": "Consumption (sum of the lines)",
        "meter_completeness": "Data completeness by meter",
        "meter": "Meter",
        "meters": "Meters",
        "code": "Code",
        "role": "Role",
        "unit": "Unit",
        "interval": "Interval",
        "minutes": "min",
        "reading_kind": "Readings",
        "register": "register",
        "interval_value": "interval",
        "present_expected": "present/expected",
        "hours_missing": "hours missing",
        "monthly_energy": "Monthly energy",
        "monthly_tce": "Monthly standard coal (tce)",
        "year": "Year",
        "import_history": "Import history",
        "batch": "Batch",
        "file": "File",
        "imported_at": "Imported at",
        "accepted": "new",
        "unchanged": "unchanged",
        "revised": "revised",
        "rejected": "rejected",
        "rejected_rows": "Rejected rows",
        "row": "Row",
        "field": "Field",
        "reason": "Reason",
        "none": "none",
        "not_found": "Not found",
        "not_found_text": "This page does not exist, or you may not see it.",
        "back_home": "Back to start",
        "parks": "Parks",
        "no_park": "No park yet.",
        "bad_date": "Dates are YYYY-MM-DD; showing the default data date instead.",
        "total": "Total",
        # carbon inputs page (lingtan.web.inputs_page)
        "inputs_title": "Carbon accounting inputs",
        "inputs_link": "Enter and view inputs (production, measured parameters, green power "
        "contracts)",
        "back_to_carbon": "Back to carbon accounting",
        "inputs_intro": "Aluminium production feeds the smelting process emissions, measured fuel "
        "parameters the combustion emissions, green power contracts the market-based Scope 2.",
        "inputs_rule": "Where an enterprise has several production or measured parameter records "
        "for one period (and fuel), inventories use the newest, whole: a parameter it leaves "
        "empty takes the default, not an older record's value. Older records stay listed, marked "
        "with the record that replaced them. A month's record and its year's record are "
        "different periods and do not replace each other. A contract has one record per period; "
        'tick "correct" to change it.',
        "col_status": "Status",
        "status_in_use": "in use",
        "status_replaces": "in use; replaces record {ids}",
        "status_superseded": "superseded by record {id}",
        "status_not_used": "not used: not a primary aluminium smelter",
        "list_sep": ", ",
        "production_title": "Primary aluminium production (smelters)",
        "measured_title": "Measured fuel parameters",
        "contracts_title": "Green power contracts",
        "col_record": "Record",
        "col_period": "Period",
        "col_reference": "Reference",
        "col_recorded_at": "Recorded at",
        "whole_year": "whole year",
        "field_enterprise": "Enterprise",
        "field_year": "Year",
        "field_month": "Month",
        "field_aluminium_t": "Aluminium produced (t)",
        "field_anode_net_consumption_t": "Net anode consumption (t)",
        "field_anode_sulfur_fraction": "Anode sulfur (mass fraction, 0–1)",
        "field_anode_ash_fraction": "Anode ash (mass fraction, 0–1)",
        "field_cf4_kg_per_t_al": "CF₄ factor (kg/t Al)",
        "field_c2f6_kg_per_t_al": "C₂F₆ factor (kg/t Al)",
        "field_reference": "Reference (lab report, monitoring record)",
        "field_fuel": "Fuel",
        "field_activity_unit": "Activity unit",
        "field_ncv_gj_per_unit": "Net calorific value (GJ/unit)",
        "field_carbon_content_tc_per_tj": "Carbon content (tC/TJ)",
        "field_oxidation_rate": "Oxidation rate (0–1)",
        "field_mwh": "Green power (MWh)",
        "field_contract_ref": "Contract reference",
        "field_replace": "Correct the existing record of this contract and period",
        "default_value": "default",
        "measured_optional": "Measured values; leave empty for the IPCC 2006 default. Measured "
        "values need a reference.",
        "measured_needs_one": "Give at least one measured parameter; steam takes its enthalpy "
        "(GJ/t).",
        "unit_default": "empty: the fuel's default unit",
        "steam_enthalpy": "Steam (enthalpy, GJ/t)",
        "save": "Save",
        "saved_record": "Saved: record {id}",
        "read_only_note": "Your role can view these records but not enter them.",
        "no_smelter_note": "None of the enterprises you record for is a primary aluminium smelter "
        "(GB/T 4754-2017 C3216): there is no production to enter.",
        "no_records": "no records",
        "input_error_ValidationError": "invalid input",
        "input_error_UnitError": "unknown unit",
        "input_error_ConflictError": "conflicts with a recorded value",
        "input_error_TenantAccessError": "not allowed",
        "input_error_NotFoundError": "not found",
        "input_error": "{kind}: {message}",
        "input_error_field": "{kind} ({field}): {message}",
    },
}

#: The Chinese of the carbon input refusals (:data:`lingtan.services.carbon_inputs.REFUSALS`)
#: and of the other refusals a form of the inputs page can meet
#: (:data:`lingtan.web.inputs_page.FORM_REFUSALS`), by key.  The field a refusal is about is
#: named before it by the page; codes, ids, periods and numbers stay as they are.
REFUSALS_ZH: dict[str, str] = {
    "role_may_not_record": "{who}（{role}）无权录入碳核算输入数据",
    "may_not_record_for": "{who} 无权录入企业 {enterprise} 的数据",
    "not_a_number_in": "应为 {need} 的数，填写的是 {value}",
    "too_long": "共 {length} 个字符，最多 {limit} 个",
    "not_a_smelter": "企业 {enterprise}（行业代码 {industry}）不是原铝冶炼企业（GB/T 4754-2017 "
                     "{smelter_class} 铝冶炼），不适用原铝产量及其工业过程排放（阳极 CO2、CF4、C2F6）",
    "sulfur_and_ash": "阳极硫分 + 阳极灰分 = {sulfur} + {ash}，应小于 1（阳极其余部分是生成 CO2 的碳）",
    "production_reference": "填写实测的阳极硫分、灰分或全氟化碳排放因子时，须注明依据（检测报告、"
                            "阳极效应监测记录）",
    "unknown_fuel": "燃料 {fuel} 不是已知燃料（已知：{known}）；蒸汽（steam）录入焓值 (GJ/t)",
    "measured_reference": "实测参数须注明依据（检测报告、日期）",
    "measured_none": "请至少填写低位发热量、单位热值含碳量、碳氧化率中的一项",
    "steam_enthalpy": "蒸汽须在低位发热量一栏填写焓值 (GJ/t)",
    "contract_reference": "绿电合同须填写合同编号",
    "contract_recorded": "企业 {enterprise} 的绿电合同 {ref} 已有 {period} 的记录（记录 {record}，"
                         "{mwh} MWh），再录入 {new_period} 的记录将重复计算",
    "contract_recorded_same_period": "企业 {enterprise} 的绿电合同 {ref} 已有 {period} 的记录（记录 "
                                     "{record}，{mwh} MWh），再录入 {new_period} 的记录将重复计算；"
                                     "如需更正该记录，请勾选“更正该合同同一期间的已有记录”",
    "contract_not_recorded": "企业 {enterprise} 的绿电合同 {ref} 没有 {period} 的记录可供更正",
    # the form's own refusals, and those of other modules
    "not_a_number": "不是数字：{text}",
    "not_a_whole_number": "不是整数：{text}",
    "required": "必填",
    "enterprise_not_found": "园区 {park} 中没有企业 {code}",
    "period_year": "年份 {year} 超出 1990–2100 的范围",
    "period_month": "月份 {month} 不在 1–12 之间",
    "unknown_unit": "未知单位 {unit}",
}  # fmt: skip

#: Who a user is (lingtan.domain.UserRole), as a refusal names it.
USER_ROLES_ZH: dict[str, str] = {
    "admin": "平台管理员",
    "park_manager": "园区管理员",
    "enterprise_user": "企业用户",
    "verifier": "核查人员",
    "device": "设备密钥",
}

CARRIERS: dict[str, dict[str, str]] = {
    "zh": {
        "electricity": "电力",
        "natural_gas": "天然气",
        "steam": "蒸汽",
        "heat": "热力",
        "diesel": "柴油",
        "gasoline": "汽油",
        "raw_coal": "原煤",
        "coke": "焦炭",
        "lpg": "液化石油气",
        "fuel_oil": "燃料油",
        "water": "水",
        "coke_oven_gas": "焦炉煤气",
        "crude_oil": "原油",
        "kerosene": "煤油",
        "washed_coal": "洗精煤",
    },
    "en": {
        "electricity": "Electricity",
        "natural_gas": "Natural gas",
        "steam": "Steam",
        "heat": "Heat",
        "diesel": "Diesel",
        "gasoline": "Gasoline",
        "raw_coal": "Raw coal",
        "coke": "Coke",
        "lpg": "LPG",
        "fuel_oil": "Fuel oil",
        "water": "Water",
        "coke_oven_gas": "Coke oven gas",
        "crude_oil": "Crude oil",
        "kerosene": "Kerosene",
        "washed_coal": "Washed coal",
    },
}

ROLES: dict[str, dict[str, str]] = {
    "zh": {
        "grid_import": "电网购入",
        "grid_export": "上网送出",
        "onsite_generation": "厂内发电",
        "direct_green_supply": "绿电直连",
        "plant_output": "电站出力",
        "storage_charge": "储能充电",
        "storage_discharge": "储能放电",
        "consumption": "消耗",
        "submeter": "分项计量",
        "purchase": "外购",
    },
    "en": {
        "grid_import": "grid import",
        "grid_export": "grid export",
        "onsite_generation": "on-site generation",
        "direct_green_supply": "direct green supply",
        "plant_output": "plant output",
        "storage_charge": "storage charge",
        "storage_discharge": "storage discharge",
        "consumption": "consumption",
        "submeter": "sub-meter",
        "purchase": "purchase",
    },
}


def pick_lang(query: str | None, cookie: str | None) -> str:
    """Return the language asked in the query, else the cookie's, else Chinese."""
    for candidate in (query, cookie):
        if candidate in LANGS:
            return str(candidate)
    return DEFAULT_LANG


def translator(lang: str) -> Callable[[str], str]:
    """Return ``t(key)`` for a language, falling back to Chinese and then to the key."""
    table = STRINGS.get(lang, STRINGS[DEFAULT_LANG])

    def t(key: str) -> str:
        return table.get(key) or STRINGS[DEFAULT_LANG].get(key, key)

    return t


def carrier_label(lang: str, carrier: str) -> str:
    """Return the name of an energy carrier in the language."""
    return CARRIERS.get(lang, CARRIERS[DEFAULT_LANG]).get(carrier, carrier)


def role_label(lang: str, role: str) -> str:
    """Return the name of a meter role in the language."""
    return ROLES.get(lang, ROLES[DEFAULT_LANG]).get(role, role)


def refusal_zh(key: str, params: Mapping[str, str]) -> str:
    """Return a refusal read back into its template ``key`` and ``params`` in Chinese.

    A comparison (``>= 0 and <= 1``) is written with its signs (``≥ 0 且 ≤ 1``), a role and the
    known fuels by their Chinese names; every other parameter as it is.
    """
    out = dict(params)
    if "need" in out:
        out["need"] = out["need"].replace(">=", "≥").replace("<=", "≤").replace(" and ", " 且 ")
    if "role" in out:
        out["role"] = USER_ROLES_ZH.get(out["role"], out["role"])
    if "known" in out:
        out["known"] = "、".join(carrier_label("zh", k) for k in out["known"].split(", "))
    return REFUSALS_ZH[key].format(**out)
