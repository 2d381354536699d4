; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Functions in a contract,
; interface or library become its methods.
(contract_declaration name: (identifier) @name) @class
(interface_declaration name: (identifier) @name) @interface
(library_declaration name: (identifier) @name) @module
(function_definition name: (identifier) @name) @function
(modifier_definition name: (identifier) @name) @function
(constructor_definition "constructor" @name) @function
(struct_declaration name: (identifier) @name) @struct
(enum_declaration name: (identifier) @name) @enum
; State variables, events and errors (runs of small ones merge).
(state_variable_declaration name: (identifier) @name) @constant
(event_definition name: (identifier) @name) @constant
(error_declaration name: (identifier) @name) @constant
