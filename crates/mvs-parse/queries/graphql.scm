; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Each is captured with its
; `definition` node, whose siblings are the comments above it.
(definition (type_system_definition (type_definition (object_type_definition (name) @name)))) @struct
(definition (type_system_definition (type_definition (input_object_type_definition (name) @name)))) @struct
(definition (type_system_definition (type_definition (union_type_definition (name) @name)))) @struct
(definition (type_system_definition (type_definition (interface_type_definition (name) @name)))) @interface
(definition (type_system_definition (type_definition (enum_type_definition (name) @name)))) @enum
(definition (type_system_definition (type_definition (scalar_type_definition (name) @name)))) @constant
(definition (type_system_definition (directive_definition (name) @name))) @macro
(definition (type_system_extension (type_extension (_ (name) @name)))) @impl
(definition (executable_definition (operation_definition (name) @name))) @function
(definition (executable_definition (fragment_definition (fragment_name (name) @name)))) @function
