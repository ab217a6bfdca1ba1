// workerd has no DOMParser, which @aws-sdk/xml-builder's browser build wants: point the SDK at its
// own pure-JS parser instead (wrangler.toml and vitest alias @aws-sdk/xml-builder to this file).
export { XmlNode } from '../../node_modules/@aws-sdk/xml-builder/dist-es/XmlNode.js';
export { XmlText } from '../../node_modules/@aws-sdk/xml-builder/dist-es/XmlText.js';
export { parseXML } from '../../node_modules/@aws-sdk/xml-builder/dist-es/xml-parser.js';
