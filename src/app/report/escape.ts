/**
 * Escaping text for XML and HTML, shared by the SVG charts and the HTML page.
 *
 * @module
 */

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/**
 * `text` made safe as XML or HTML element content and as a quoted attribute value. Control characters that
 * XML 1.0 forbids even as character references become U+FFFD, so odd input cannot make a chart unreadable.
 */
export function escapeXml(text: string): string {
  // deno-lint-ignore no-control-regex -- matching the control characters is the point
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, "\uFFFD").replace(
    /[&<>"']/g,
    (c) => ENTITIES[c],
  );
}
