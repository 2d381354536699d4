; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Rule sets are sections named by
; their selectors; at-rule blocks (`@media`, `@supports`, `@keyframes`) are
; sections holding theirs.
(rule_set (selectors) @name) @section
(media_statement . (_) @name) @section
(supports_statement . (_) @name) @section
(keyframes_statement (keyframes_name) @name) @section
