; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Services are interfaces whose
; rpcs become their methods.
(message (message_name (identifier) @name)) @struct
(enum (enum_name (identifier) @name)) @enum
(service (service_name (identifier) @name)) @interface
(rpc (rpc_name (identifier) @name)) @function
(extend (full_ident) @name) @impl
