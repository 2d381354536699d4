; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. A type annotation is its own
; declaration before the value it types.
(file (value_declaration (function_declaration_left . (lower_case_identifier) @name)) @function)
(file (port_annotation name: (lower_case_identifier) @name) @function)
(type_alias_declaration name: (upper_case_identifier) @name) @struct
(type_declaration name: (upper_case_identifier) @name) @enum
