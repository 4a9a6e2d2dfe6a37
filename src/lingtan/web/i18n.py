"""Words of the dashboard in simplified Chinese (default) and English.

Every label a page shows comes from :data:`STRINGS`; carriers, meter roles and units have their
own tables (units: :data:`lingtan.units.UNIT_LABELS`).  A key missing from a language falls back to Chinese, then to the key itself.
"""

from __future__ import annotations

from collections.abc import Callable

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
    },
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
