; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. A type signature is its own
; declaration before the equations it types.
(declarations (function name: (variable) @name) @function)
(declarations (bind name: (variable) @name) @function)
(instance_declarations (function name: (variable) @name) @function)
(instance_declarations (bind name: (variable) @name) @function)
(data_type name: (name) @name) @struct
(newtype name: (name) @name) @struct
(type_synonym name: (name) @name) @struct
(class name: (name) @name) @trait
(instance name: (name) @name) @impl
