; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. One file serves implementations
; (`.ml`) and interfaces (`.mli`). A `let` with parameters (or bound to
; `fun`/`function`) is a function, any other named `let` a constant; each
; pattern ends at `body:` so the first listed wins for a node both match.
(value_definition (let_binding pattern: (value_name) @name (parameter) body: (_))) @function
(value_definition (let_binding pattern: (value_name) @name body: [(fun_expression) (function_expression)])) @function
(value_definition (let_binding pattern: (value_name) @name body: (_))) @constant
(value_specification (value_name) @name) @function
(external (value_name) @name) @function
(type_definition (type_binding name: (_) @name body: (variant_declaration))) @enum
(type_definition (type_binding name: (_) @name body: (_))) @struct
(type_definition (type_binding name: (_) @name !body)) @struct
(exception_definition (constructor_declaration (constructor_name) @name)) @struct
(module_definition (module_binding (module_name) @name)) @module
(module_type_definition (module_type_name) @name) @trait
(class_definition (class_binding (class_name) @name)) @class
(method_definition (method_name) @name) @method
