; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path, `@scope` (optional) an explicit
; enclosing type for definitions written outside it.
(class_declaration name: (identifier) @name) @class
(record_declaration name: (identifier) @name) @class
(interface_declaration name: (identifier) @name) @trait
(enum_declaration name: (identifier) @name) @enum
(method_declaration name: (identifier) @name) @function
(constructor_declaration name: (identifier) @name) @function
