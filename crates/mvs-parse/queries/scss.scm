; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Rule sets are sections named by
; their selectors (nested ones nest); mixins and functions are functions,
; top-level `$variables` constants.
(rule_set (selectors) @name) @section
(media_statement . (_) @name) @section
(supports_statement . (_) @name) @section
(keyframes_statement (keyframes_name) @name) @section
(mixin_statement name: (identifier) @name) @function
(function_statement name: (identifier) @name) @function
(stylesheet (declaration (property_name) @name) @constant)
