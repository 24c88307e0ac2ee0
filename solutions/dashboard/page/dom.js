// The dashboard page's elements: finding one, and building one whose texts are set with
// textContent, never parsed as HTML.
export const $ = (selector) => document.querySelector(selector);
export const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
};
