"""The web page's own words in English and Chinese, and which language a visitor gets.

The core's replies already follow ``Context.language``; these are only the page chrome
(navigation, labels, the query-syntax help). ``?lang=zh`` wins over ``Accept-Language``
so the switch link works without a cookie.
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "choose_language", "strings"]

LANGUAGES = ("en", "zh")

_STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "site": "medbot",
        "tagline": "Papers, code and datasets from curated awesome lists",
        "skip": "Skip to content",
        "nav": "Main",
        "nav_home": "Home",
        "nav_topics": "Topics",
        "nav_new": "New",
        "nav_sources": "Lists",
        "nav_feed": "Atom feed",
        "switch": "中文",
        "switch_label": "切换到中文",
        "search_label": "Search the lists",
        "search_placeholder": "e.g. lesion detection, scRNA-seq, 单细胞",
        "search_button": "Search",
        "new_heading": "New in the last 30 days",
        "lists_heading": "Lists served",
        "entries": "entries",
        "results_for": "Search results",
        "pagination": "Result pages",
        "prev": "Previous",
        "next": "Next",
        "page_of": "Page {page} of {pages}",
        "syntax_heading": "How to search",
        "syntax_words": "Plain words: entries with every word rank first.",
        "syntax_phrase": "\u201cquoted phrases\u201d match the words in that order.",
        "syntax_topic": "topic:name keeps one section, e.g. topic:single-cell",
        "syntax_year": "year:2019 or year:2018..2020 keeps those years.",
        "syntax_source": "source:name keeps one list.",
        "syntax_tag": "tag:code keeps entries with that badge.",
        "section": "Section",
        "tags": "Tags",
        "year": "Year",
        "lists": "Lists",
        "links": "Links",
        "code": "Code",
        "description": "Description",
        "entry_id": "Id",
        "topics_heading": "Topics",
        "topics_intro": "Each list's sections, with the number of entries in each.",
        "new_days_heading": "New in the last {days} days",
        "days_label": "Days",
        "show": "Show",
        "sources_heading": "Lists and their state",
        "col_list": "List",
        "col_entries": "Entries",
        "col_last_poll": "Last poll",
        "col_last_change": "Last change",
        "col_failures": "Failures",
        "never": "never",
        "local": "local file",
        "not_found": "Not found",
        "not_found_text": "There is no such page or entry.",
        "bad_request": "That request is not quite right",
        "bad_page": "The page number must be a whole number from 1 to 1000.",
        "bad_days": "The number of days must be a whole number from 1 to 365.",
        "server_error": "Something went wrong",
        "server_error_text": "Sorry, something went wrong on our side. Please try again in a moment.",
        "back_home": "Back to the home page",
        "footer": "medbot serves these lists read-only. Entries stay as their lists wrote them.",
        "in_section": "in",
        "from": "from",
    },
    "zh": {
        "site": "medbot",
        "tagline": "来自精选 awesome 列表的论文、代码和数据集",
        "skip": "跳到正文",
        "nav": "主导航",
        "nav_home": "首页",
        "nav_topics": "分类",
        "nav_new": "新增",
        "nav_sources": "列表",
        "nav_feed": "Atom 订阅",
        "switch": "English",
        "switch_label": "Switch to English",
        "search_label": "搜索列表",
        "search_placeholder": "例如 lesion detection、scRNA-seq、单细胞",
        "search_button": "搜索",
        "new_heading": "最近 30 天新增",
        "lists_heading": "收录的列表",
        "entries": "条",
        "results_for": "搜索结果",
        "pagination": "结果分页",
        "prev": "上一页",
        "next": "下一页",
        "page_of": "第 {page} 页，共 {pages} 页",
        "syntax_heading": "搜索语法",
        "syntax_words": "普通词语：包含全部词语的条目排在前面。",
        "syntax_phrase": "“带引号的短语”按顺序匹配这些词。",
        "syntax_topic": "topic:名称 只看某个分类，例如 topic:单细胞",
        "syntax_year": "year:2019 或 year:2018..2020 只看这些年份。",
        "syntax_source": "source:名称 只看某个列表。",
        "syntax_tag": "tag:code 只看带该标签的条目。",
        "section": "分类",
        "tags": "标签",
        "year": "年份",
        "lists": "列表",
        "links": "链接",
        "code": "代码",
        "description": "简介",
        "entry_id": "编号",
        "topics_heading": "分类",
        "topics_intro": "每个列表的分类及其条目数。",
        "new_days_heading": "最近 {days} 天新增",
        "days_label": "天数",
        "show": "查看",
        "sources_heading": "列表及其状态",
        "col_list": "列表",
        "col_entries": "条目",
        "col_last_poll": "上次轮询",
        "col_last_change": "上次更新",
        "col_failures": "失败次数",
        "never": "从未",
        "local": "本地文件",
        "not_found": "未找到",
        "not_found_text": "没有这个页面或条目。",
        "bad_request": "请求有误",
        "bad_page": "页码须为 1 到 1000 的整数。",
        "bad_days": "天数须为 1 到 365 的整数。",
        "server_error": "出了点问题",
        "server_error_text": "抱歉，我们这边出了点问题，请稍后再试。",
        "back_home": "返回首页",
        "footer": "medbot 以只读方式提供这些列表，条目内容保持原样。",
        "in_section": "分类",
        "from": "来自",
    },
}


def strings(lang: str) -> dict[str, str]:
    """The page words for ``lang`` (en or zh)."""
    return _STRINGS["zh" if lang == "zh" else "en"]


def choose_language(explicit: str | None, accept_language: str | None) -> str:
    """``zh`` or ``en``: an explicit ``?lang=`` first, else the best ``Accept-Language`` match."""
    if explicit in LANGUAGES:
        return str(explicit)
    best_lang, best_q = "en", 0.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        lang = "zh" if tag.lower().startswith("zh") else "en" if tag.lower().startswith("en") else None
        if lang and quality > best_q:
            best_lang, best_q = lang, quality
    return best_lang
