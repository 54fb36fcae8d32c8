// The registry of question kinds on the pages. A new kind is one module in this folder and one
// line below.
//
// Every kind module exports:
//   name, label            the kind's API name, and its name in the console
//   accumulates            (optional) true when each Send adds an entry (open, qa) instead of
//                          replacing the phone's answer
//   listOnPhone            (optional) the phone input shows the results itself (qa)
//   editor                 the console's "add a question" fields: {fields() -> [Node],
//                          read(form) -> {body, problems}, names: {field: human name}, lines:
//                          [fields typed one per line], slotFor?(form, field, index),
//                          afterCreate?: {PATCH body sent right after create}}
//   describe(q), items(q)  the console card's summary line, and the options or statements listed
//   createInput(q, ctx)    the phone's input: {node, after?, sendLabel?, set(value), clear(),
//                          read() -> {value} | {problem}, describe(value), update?(q, results),
//                          restoreText?(text)}
//   createView(q, ctx)     the result (ctx.mode 'presenter' | 'phone' | 'console'): {node,
//                          update(q, results), relayout?(), text() -> [lines for screen readers],
//                          count(results) -> "12 answers"}

import * as choice from './choice.js';
import * as open from './open.js';
import * as qa from './qa.js';
import * as ranking from './ranking.js';
import * as scale from './scale.js';
import * as wordcloud from './wordcloud.js';

export const KINDS = {
  [choice.name]: choice,
  [scale.name]: scale,
  [wordcloud.name]: wordcloud,
  [open.name]: open,
  [ranking.name]: ranking,
  [qa.name]: qa,
};

export function kindOf(name) {
  return Object.prototype.hasOwnProperty.call(KINDS, name) ? KINDS[name] : null;
}
