; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Each statement is captured with its
; `statement` node, whose siblings are the comments above it. `CREATE`s are
; definitions; other statements are constants named by their table or
; keyword, so a script of `INSERT`s or queries becomes runs of them (small
; ones merge) rather than one module header.
(statement (create_table (object_reference name: (identifier) @name))) @struct
(statement (create_view (object_reference name: (identifier) @name))) @struct
(statement (create_materialized_view (object_reference name: (identifier) @name))) @struct
(statement (create_type (object_reference name: (identifier) @name))) @struct
(statement (create_function (object_reference name: (identifier) @name))) @function
(statement (create_index column: (identifier) @name)) @constant
(statement (insert (object_reference name: (identifier) @name))) @constant
(statement (alter_table (object_reference name: (identifier) @name))) @constant
(statement (drop_table (object_reference name: (identifier) @name))) @constant
(statement (select (keyword_select) @name)) @constant
(statement (update (keyword_update) @name)) @constant
(statement (delete (keyword_delete) @name)) @constant
