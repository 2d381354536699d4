; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Tables (`[server]`,
; `[[jobs]]`) are sections; top-level keys are constants.
(table [(bare_key) (dotted_key) (quoted_key)] @name) @section
(table_array_element [(bare_key) (dotted_key) (quoted_key)] @name) @section
(document (pair [(bare_key) (dotted_key) (quoted_key)] @name) @constant)
