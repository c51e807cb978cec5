/**
 * The documentation of the config's fields, read from where it is written: the TSDoc of each
 * field of the zod schema in functions/core/config.ts (parsed with the TypeScript compiler, so a
 * field someone adds with its comment is documented without another step). Used by
 * `npm run schema` (descriptions in the JSON Schema editors show) and `npm run docs` (the
 * reference's config table).
 *
 * A field's comment is matched to the JSON Schema by the object it belongs to: each `z.object({…})`
 * literal of the source is known by the set of its keys, which the JSON Schema's object node has
 * too. A `@scope local` or `@scope aws` tag says that a field applies only there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export const CONFIG_SOURCE = join(import.meta.dirname, '..', 'functions', 'core', 'config.ts');

/** Where a field applies: a local run (`mailhealth`), the AWS deployment, or both. */
export type FieldScope = 'local' | 'aws' | 'both';

export interface FieldDoc {
  readonly description: string;
  /** From a `@scope` tag; null when the comment has none. */
  readonly scope: Exclude<FieldScope, 'both'> | null;
  /** From a `@default` tag: a default the schema cannot state (worked out at run time), in words. */
  readonly defaultText?: string;
}

/** The key set of an object, as both sides know it. */
export function keySignature(keys: Iterable<string>): string {
  return [...keys].sort().join(',');
}

function propertyName(name: ts.PropertyName): string | null {
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return null;
}

function commentText(comment: string | ts.NodeArray<ts.JSDocComment> | undefined): string {
  return (ts.getTextOfJSDocComment(comment) ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * The documented fields of every `z.object({…})` of the source: key signature → field → doc.
 * @example configFieldDocs().get(keySignature(['connectMs', 'stepMs', 'probeMs']))?.get('stepMs')?.description
 */
export function configFieldDocs(source: string = readFileSync(CONFIG_SOURCE, 'utf8')): Map<string, Map<string, FieldDoc>> {
  const file = ts.createSourceFile('config.ts', source, ts.ScriptTarget.Latest, true);
  const out = new Map<string, Map<string, FieldDoc>>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === 'object') {
      const [literal] = node.arguments;
      if (literal && ts.isObjectLiteralExpression(literal)) {
        const fields = new Map<string, FieldDoc>();
        const keys: string[] = [];
        for (const prop of literal.properties) {
          if (!ts.isPropertyAssignment(prop) && !ts.isShorthandPropertyAssignment(prop)) continue;
          const key = propertyName(prop.name);
          if (key === null) continue;
          keys.push(key);
          const docs = ts.getJSDocCommentsAndTags(prop).filter(ts.isJSDoc);
          const doc = docs.at(-1);
          if (!doc) continue;
          const tag = (name: string) => commentText(doc.tags?.find((t) => t.tagName.text === name)?.comment);
          const scope = tag('scope');
          const defaultText = tag('default');
          fields.set(key, { description: commentText(doc.comment), scope: scope === 'local' || scope === 'aws' ? scope : null, ...(defaultText ? { defaultText } : {}) });
        }
        const signature = keySignature(keys);
        // Two objects with the same keys (an alert route's slack beside alerts.slack) share docs: the first written wins.
        const known = out.get(signature) ?? new Map<string, FieldDoc>();
        for (const [k, v] of fields) if (!known.has(k)) known.set(k, v);
        out.set(signature, known);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return out;
}

/** A JSON Schema node, as far as the config's schema uses it. */
export interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  enum?: unknown[];
  default?: unknown;
  description?: string;
  anyOf?: SchemaNode[];
  [key: string]: unknown;
}

/**
 * The JSON Schema with each documented field's `description` set (and where it applies, when
 * only there), for editors. The input is not changed.
 */
export function withDescriptions(schema: SchemaNode, docs: Map<string, Map<string, FieldDoc>> = configFieldDocs()): SchemaNode {
  const copy = structuredClone(schema);
  const walk = (node: SchemaNode): void => {
    if (node.properties) {
      const fields = docs.get(keySignature(Object.keys(node.properties)));
      for (const [key, child] of Object.entries(node.properties)) {
        const doc = fields?.get(key);
        if (doc?.description) {
          const where = doc.scope ? ` (${doc.scope === 'local' ? 'local runs only' : 'AWS only'})` : '';
          child.description = `${doc.description}${where}${doc.defaultText ? ` Default: ${doc.defaultText}.` : ''}`;
        }
        walk(child);
      }
    }
    if (node.items) walk(node.items);
    for (const alt of node.anyOf ?? []) walk(alt);
  };
  walk(copy);
  return copy;
}
