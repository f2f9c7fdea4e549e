// SQL text shared by the statements that stage a message's analytics
// (stats_functions.cpp, and record_outbound in events.cpp): what an outbound
// message's metadata contributes, read from a column `s.md` (jsonb).
#pragma once

#define SB_MD_IS(key, type)                                                                        \
    "pg_catalog.jsonb_typeof(s.md OPERATOR(pg_catalog.->) '" key "') OPERATOR(pg_catalog.=) '" type "'"

// the category column: the metadata's "category" when a string
#define SB_MD_CATEGORY "CASE WHEN " SB_MD_IS("category", "string") " THEN s.md OPERATOR(pg_catalog.->>) 'category' END"

// ai_tasks, ai_tokens, ai_processing_ms_total, ai_processing_count, ai_judged, ai_succeeded
#define SB_AI_FACTS                                                                                  \
    " (s.md OPERATOR(pg_catalog.?|) ARRAY['tokens_used', 'processing_ms', 'success', 'category'])"  \
    "::pg_catalog.int4,"                                                                             \
    " CASE WHEN " SB_MD_IS("tokens_used", "number") " THEN pg_catalog.round((s.md"                  \
    " OPERATOR(pg_catalog.->>) 'tokens_used')::pg_catalog.numeric)::pg_catalog.int8 ELSE 0 END,"     \
    " CASE WHEN " SB_MD_IS("processing_ms", "number") " THEN (s.md"                                 \
    " OPERATOR(pg_catalog.->>) 'processing_ms')::pg_catalog.numeric ELSE 0 END,"                     \
    " CASE WHEN " SB_MD_IS("processing_ms", "number") " THEN 1 ELSE 0 END,"                         \
    " CASE WHEN " SB_MD_IS("success", "boolean") " THEN 1 ELSE 0 END,"                              \
    " CASE WHEN " SB_MD_IS("success", "boolean") " THEN ((s.md"                                     \
    " OPERATOR(pg_catalog.->>) 'success')::pg_catalog.bool)::pg_catalog.int4 ELSE 0 END"

// the rows a data-modifying WITH wrote, as a number
#define COUNT_OF(cte) "(SELECT pg_catalog.count(*) FROM " cte ")"
