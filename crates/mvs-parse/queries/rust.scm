; Definitions that become chunks. The capture name is the chunk kind; `@name`
; is the identifier used for the qualified path (`mod::Type::method`).
(function_item name: (identifier) @name) @function
(function_signature_item name: (identifier) @name) @function
(struct_item name: (type_identifier) @name) @struct
(enum_item name: (type_identifier) @name) @enum
(union_item name: (type_identifier) @name) @struct
(trait_item name: (type_identifier) @name) @trait
(impl_item type: (_) @name) @impl
(mod_item name: (identifier) @name body: (declaration_list)) @module
(macro_definition name: (identifier) @name) @macro
; Constants, statics and top-level variables (runs of small ones merge).
(const_item name: (identifier) @name) @constant
(static_item name: (identifier) @name) @constant
