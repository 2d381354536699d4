; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Useful units of a page: elements
; with an `id` (nested ones nest), `<script>`/`<style>` blocks, `<head>`,
; `<body>` and each top-level element, named by their tag. A page without
; ids is then its head and body (long ones split), not one module header.
(document (element (start_tag (tag_name) @name)) @section)
(element (start_tag (tag_name) @name (#any-of? @name "head" "body"))) @section
(element
  (start_tag
    (attribute (attribute_name) @_attribute (quoted_attribute_value (attribute_value) @name))
    (#eq? @_attribute "id"))) @section
(script_element (start_tag (tag_name) @name)) @section
(style_element (start_tag (tag_name) @name)) @section
