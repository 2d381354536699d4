; Code embedded in an HTML-like host file (Vue, Svelte and Astro components),
; the helix way: @injection.content is the embedded text, its language the
; @injection.language capture (a `lang` attribute's value, resolved like any
; language name: `ts` is TypeScript) or else the pattern's
; `injection.language` setting. Each text is chunked with its language's
; grammar (windows for a text format or an unknown name); what the host holds
; besides (a template, markup, Astro's frontmatter) becomes windows.

; The `lang` attribute names the language: <script lang="ts">, <style lang="scss">.
((script_element
   (start_tag
     (attribute
       (attribute_name) @_attribute
       [(attribute_value) @injection.language
        (quoted_attribute_value (attribute_value) @injection.language)]))
   (raw_text) @injection.content)
 (#eq? @_attribute "lang"))

((style_element
   (start_tag
     (attribute
       (attribute_name) @_attribute
       [(attribute_value) @injection.language
        (quoted_attribute_value (attribute_value) @injection.language)]))
   (raw_text) @injection.content)
 (#eq? @_attribute "lang"))

; Without one, a script is JavaScript and a style is CSS.
((script_element
   (start_tag) @_tag
   (raw_text) @injection.content)
 (#not-match? @_tag "\\slang\\s*=")
 (#set! injection.language "javascript"))

((style_element
   (start_tag) @_tag
   (raw_text) @injection.content)
 (#not-match? @_tag "\\slang\\s*=")
 (#set! injection.language "css"))
