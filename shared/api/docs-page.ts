/**
 * The reference page at /docs: renders the same server's /openapi.json in the browser. Everything is
 * inline because neither a customer's PBX LAN nor every edge can reach a CDN; all text is set with
 * textContent, never parsed as HTML.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 980px; padding: 1rem 1.5rem 4rem; color: #1d1f23; }
h1 { margin-bottom: .2rem } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2rem; margin-top: 2.2rem }
.op { border: 1px solid #ddd; border-radius: 6px; margin: .8rem 0; padding: .6rem .8rem }
.m { display: inline-block; min-width: 4.2rem; font: bold 12px monospace; color: #fff; border-radius: 4px; padding: 2px 6px; text-align: center; margin-right: .5rem }
.get { background: #2b6cb0 } .post { background: #2f855a } .put { background: #b7791f } .delete { background: #c53030 }
code, pre { font-family: ui-monospace, monospace; font-size: 13px } pre { background: #f6f7f9; padding: .5rem; overflow-x: auto; margin: .3rem 0 }
table { border-collapse: collapse; margin: .3rem 0 } td, th { border: 1px solid #e2e2e2; padding: 2px 8px; text-align: left; vertical-align: top; font-size: 13px }
.muted { color: #666 } h4 { margin: .6rem 0 .2rem; font-size: 13px; text-transform: uppercase; color: #555 }
</style>
</head>
<body>
<h1 id="title">API reference</h1>
<p id="intro" class="muted">Loading openapi.json ...</p>
<main id="ops"></main>
<script>
(function () {
  var el = function (tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
  var resolve = function (spec, s) { return s && s.$ref ? spec.components.schemas[s.$ref.split('/').pop()] : s; };
  function constraints(s) {
    var out = [];
    if (s.enum) out.push('one of ' + s.enum.join(', '));
    if (s.const !== undefined) out.push('= ' + JSON.stringify(s.const));
    if (s.pattern) out.push('pattern ' + s.pattern);
    if (s.minLength !== undefined) out.push('min length ' + s.minLength);
    if (s.maxLength !== undefined) out.push('max length ' + s.maxLength);
    if (s.minimum !== undefined) out.push('>= ' + s.minimum);
    if (s.format) out.push(s.format);
    if (s.description) out.push(s.description);
    return out.join('; ');
  }
  function typeOf(s) {
    if (!s) return 'any';
    if (s.anyOf) return s.anyOf.map(typeOf).join(' | ');
    if (s.type === 'array') return typeOf(s.items) + '[]';
    return s.type || (s.const !== undefined ? JSON.stringify(s.const) : 'any');
  }
  function shape(spec, s, indent) {
    s = resolve(spec, s) || {};
    var pad = new Array(indent + 1).join('  ');
    if (s.type === 'object' && s.properties) {
      var req = s.required || [];
      return '{\\n' + Object.keys(s.properties).map(function (k) {
        return pad + '  ' + k + (req.indexOf(k) < 0 ? '?' : '') + ': ' + shape(spec, s.properties[k], indent + 1);
      }).join(',\\n') + '\\n' + pad + '}';
    }
    if (s.type === 'object' && s.additionalProperties) return '{ [key: string]: ' + shape(spec, s.additionalProperties, indent) + ' }';
    if (s.type === 'array') return shape(spec, s.items, indent) + '[]';
    if (s.anyOf) return s.anyOf.map(function (x) { return shape(spec, x, indent); }).join(' | ');
    if (s.const !== undefined) return JSON.stringify(s.const);
    if (s.enum) return s.enum.map(function (v) { return JSON.stringify(v); }).join(' | ');
    return s.type || 'any';
  }
  function table(rows, head) {
    var t = el('table'), tr = el('tr');
    head.forEach(function (h) { tr.appendChild(el('th', '', h)); });
    t.appendChild(tr);
    rows.forEach(function (r) { var row = el('tr'); r.forEach(function (c) { row.appendChild(el('td', '', c)); }); t.appendChild(row); });
    return t;
  }
  function render(spec) {
    document.title = spec.info.title;
    document.getElementById('title').textContent = spec.info.title + ' ' + spec.info.version;
    document.getElementById('intro').textContent = spec.info.description;
    var main = document.getElementById('ops');
    (spec.tags || []).forEach(function (tag) {
      var section = el('section');
      section.appendChild(el('h2', '', tag.name));
      section.appendChild(el('p', 'muted', tag.description));
      Object.keys(spec.paths).forEach(function (path) {
        var item = spec.paths[path];
        ['get', 'post', 'put', 'delete'].forEach(function (method) {
          var op = item[method];
          if (!op || op.tags.indexOf(tag.name) < 0) return;
          var box = el('div', 'op');
          box.id = op.operationId;
          var h = el('h3');
          h.appendChild(el('span', 'm ' + method, method.toUpperCase()));
          h.appendChild(el('code', '', path));
          box.appendChild(h);
          box.appendChild(el('div', '', op.summary));
          if (op.description) box.appendChild(el('div', 'muted', op.description));
          if (op.parameters && op.parameters.length) {
            box.appendChild(el('h4', '', 'Parameters'));
            box.appendChild(table(op.parameters.map(function (p) { return [p.name, p.in, p.required ? 'required' : 'optional', typeOf(p.schema), constraints(p.schema) || p.description || '']; }), ['name', 'in', '', 'type', 'rules']));
          }
          if (op.requestBody) {
            var types = Object.keys(op.requestBody.content);
            var s = resolve(spec, op.requestBody.content[types[0]].schema);
            box.appendChild(el('h4', '', 'Body (' + types.join(' or ') + ')'));
            var req = s.required || [];
            box.appendChild(table(Object.keys(s.properties || {}).map(function (k) { var p = s.properties[k]; return [k, req.indexOf(k) < 0 ? 'optional' : 'required', typeOf(p), constraints(p)]; }), ['name', '', 'type', 'rules']));
          }
          box.appendChild(el('h4', '', 'Responses'));
          Object.keys(op.responses).forEach(function (status) {
            var r = op.responses[status];
            var line = el('div');
            line.appendChild(el('b', '', status + ' '));
            line.appendChild(document.createTextNode(r.description));
            box.appendChild(line);
            var content = r.content && r.content['application/json'];
            if (content && status < 300) box.appendChild(el('pre', '', shape(spec, content.schema, 0)));
          });
          section.appendChild(box);
        });
      });
      main.appendChild(section);
    });
  }
  fetch('openapi.json').then(function (r) { return r.json(); }).then(render, function (e) {
    document.getElementById('intro').textContent = 'Could not load openapi.json: ' + e;
  });
})();
</script>
</body>
</html>
`;
