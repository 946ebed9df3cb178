//! The operators `~` and `in`, made to measure a list or map before minijinja prints it.
//!
//! `a ~ b` of a list or map, and `x in "text"` of one, print the container's whole text in
//! memory before minijinja charges fuel for it, and minijinja has no hook for an operator. So
//! strata hands minijinja each template with every operand of `~`, and every left operand of
//! `in`, passed through a filter that measures it (at most [`MAX_VALUE_BYTES`] of text) and
//! returns it unchanged: `a ~ b` is compiled as `(a)|__strata_concat ~ (b)|__strata_concat`.
//! Nothing is inserted but on the operator's own lines, so every line number stays; the
//! columns of an error are mapped back with [`Rewritten::original_offset`].
//!
//! [`MAX_VALUE_BYTES`]: super::template::MAX_VALUE_BYTES

use minijinja::machinery::{Token, ast, parse, tokenize};
use minijinja::syntax::SyntaxConfig;

/// The filter that measures an operand of `~`.
pub(crate) const CONCAT: &str = "__strata_concat";
/// The filter that measures the left operand of `in`.
pub(crate) const IN: &str = "__strata_in";

/// A template's source with its operands wrapped.
pub(crate) struct Rewritten {
    pub(crate) source: String,
    /// What was inserted, at which offset of the original, in order.
    inserted: Vec<(usize, String)>,
}

impl Rewritten {
    /// The offset in the original source of `offset` in the rewritten one (the start of the
    /// operand for an offset inside inserted text).
    pub(crate) fn original_offset(&self, offset: usize) -> usize {
        let mut shift = 0;
        for (at, text) in &self.inserted {
            if offset < at + shift {
                break;
            }
            if offset < at + shift + text.len() {
                return *at;
            }
            shift += text.len();
        }
        offset - shift
    }
}

/// `source` with the operands of `~` and `in` wrapped; unchanged if it does not parse (then
/// minijinja reports the syntax error itself).
pub(crate) fn rewrite(source: &str, syntax: &SyntaxConfig) -> Rewritten {
    let unchanged = || Rewritten {
        source: source.to_string(),
        inserted: Vec::new(),
    };
    let Ok(template) = parse(source, "<template>", syntax.clone()) else {
        return unchanged();
    };
    let tokens: Result<Vec<(Token<'_>, usize, usize)>, _> = tokenize(source, false, syntax.clone())
        .map(|t| t.map(|(tok, span)| (tok, span.start_offset as usize, span.end_offset as usize)))
        .collect();
    let Ok(tokens) = tokens else {
        return unchanged();
    };
    let mut operands = Vec::new();
    let mut nodes = Vec::new();
    stmt(&template, &mut nodes);
    for node in nodes {
        node.operands(&tokens, &mut operands);
    }
    if operands.is_empty() {
        return unchanged();
    }
    // Opening parentheses after the closing text at the same offset: an operand that ends
    // where another begins is not nested in it.
    let mut inserted: Vec<(usize, u8, String)> = Vec::new();
    for (start, end, filter) in operands {
        inserted.push((start, 1, "(".to_string()));
        inserted.push((end, 0, format!(")|{filter}")));
    }
    inserted.sort();
    let mut out = String::with_capacity(source.len() + inserted.len() * 20);
    let mut at = 0;
    for (offset, _, text) in &inserted {
        out.push_str(&source[at..*offset]);
        out.push_str(text);
        at = *offset;
    }
    out.push_str(&source[at..]);
    Rewritten {
        source: out,
        inserted: inserted.into_iter().map(|(o, _, t)| (o, t)).collect(),
    }
}

/// An expression whose operands are wrapped, by the byte range of its source.
enum Node {
    Concat(usize, usize),
    /// `in` and other comparisons: the range starts one token before the first operand.
    Compare(usize, usize),
}

impl Node {
    fn operands(
        &self,
        tokens: &[(Token<'_>, usize, usize)],
        out: &mut Vec<(usize, usize, &'static str)>,
    ) {
        let (Node::Concat(start, end) | Node::Compare(start, end)) = *self;
        let mut inside: Vec<&(Token<'_>, usize, usize)> = tokens
            .iter()
            .filter(|(_, s, e)| *s >= start && *e <= end)
            .collect();
        if let Node::Compare(..) = self {
            // The token before the first operand.
            if !inside.is_empty() {
                inside.remove(0);
            }
        }
        // The operators at the top level of the expression: (first, last) index into `inside`.
        let mut depth = 0i32;
        let mut operators = Vec::new();
        let compare = matches!(self, Node::Compare(..));
        let mut i = 0;
        while i < inside.len() {
            match inside[i].0 {
                Token::ParenOpen | Token::BracketOpen | Token::BraceOpen => depth += 1,
                Token::ParenClose | Token::BracketClose | Token::BraceClose => depth -= 1,
                _ if depth != 0 => {}
                Token::Tilde if !compare => operators.push((i, i)),
                Token::Eq
                | Token::Ne
                | Token::Lt
                | Token::Lte
                | Token::Gt
                | Token::Gte
                | Token::Ident("in")
                    if compare =>
                {
                    operators.push((i, i))
                }
                Token::Ident("not")
                    if compare && matches!(inside.get(i + 1), Some((Token::Ident("in"), _, _))) =>
                {
                    operators.push((i, i + 1));
                    i += 1;
                }
                _ => {}
            }
            i += 1;
        }
        let range = |from: usize, to: usize| -> Option<(usize, usize)> {
            // Tokens `from..to` of `inside`, as a byte range.
            (from < to).then(|| (inside[from].1, inside[to - 1].2))
        };
        match self {
            Node::Concat(..) => {
                // Left-associative: the last `~` at the top is this node's.
                if let Some(&(at, _)) = operators.last()
                    && let (Some(l), Some(r)) = (range(0, at), range(at + 1, inside.len()))
                {
                    out.push((l.0, l.1, CONCAT));
                    out.push((r.0, r.1, CONCAT));
                }
            }
            Node::Compare(..) => {
                let mut from = 0;
                for &(first, last) in &operators {
                    let is_in = matches!(inside[last].0, Token::Ident("in"));
                    if is_in && let Some(l) = range(from, first) {
                        out.push((l.0, l.1, IN));
                    }
                    from = last + 1;
                }
            }
        }
    }
}

fn stmts(body: &[ast::Stmt<'_>], nodes: &mut Vec<Node>) {
    for s in body {
        stmt(s, nodes);
    }
}

fn stmt(s: &ast::Stmt<'_>, nodes: &mut Vec<Node>) {
    use ast::Stmt;
    match s {
        Stmt::Template(t) => stmts(&t.children, nodes),
        Stmt::EmitExpr(e) => expr(&e.expr, nodes),
        Stmt::EmitRaw(_) => {}
        Stmt::ForLoop(f) => {
            expr(&f.target, nodes);
            expr(&f.iter, nodes);
            if let Some(e) = &f.filter_expr {
                expr(e, nodes);
            }
            stmts(&f.body, nodes);
            stmts(&f.else_body, nodes);
        }
        Stmt::IfCond(i) => {
            expr(&i.expr, nodes);
            stmts(&i.true_body, nodes);
            stmts(&i.false_body, nodes);
        }
        Stmt::WithBlock(w) => {
            for (target, value) in &w.assignments {
                expr(target, nodes);
                expr(value, nodes);
            }
            stmts(&w.body, nodes);
        }
        Stmt::Set(set) => {
            expr(&set.target, nodes);
            expr(&set.expr, nodes);
        }
        Stmt::SetBlock(set) => {
            expr(&set.target, nodes);
            if let Some(f) = &set.filter {
                expr(f, nodes);
            }
            stmts(&set.body, nodes);
        }
        Stmt::AutoEscape(a) => {
            expr(&a.enabled, nodes);
            stmts(&a.body, nodes);
        }
        Stmt::FilterBlock(f) => {
            expr(&f.filter, nodes);
            stmts(&f.body, nodes);
        }
        Stmt::Block(b) => stmts(&b.body, nodes),
        Stmt::Import(i) => {
            expr(&i.expr, nodes);
            expr(&i.name, nodes);
        }
        Stmt::FromImport(i) => {
            expr(&i.expr, nodes);
            for (name, alias) in &i.names {
                expr(name, nodes);
                if let Some(a) = alias {
                    expr(a, nodes);
                }
            }
        }
        Stmt::Extends(e) => expr(&e.name, nodes),
        Stmt::Include(i) => expr(&i.name, nodes),
        Stmt::Macro(m) => macro_decl(m, nodes),
        Stmt::CallBlock(c) => {
            call(&c.call, nodes);
            macro_decl(&c.macro_decl, nodes);
        }
        Stmt::Continue(_) | Stmt::Break(_) => {}
        Stmt::Do(d) => call(&d.call, nodes),
    }
}

fn macro_decl(m: &ast::Macro<'_>, nodes: &mut Vec<Node>) {
    for e in m.args.iter().chain(&m.defaults) {
        expr(e, nodes);
    }
    stmts(&m.body, nodes);
}

fn call(c: &ast::Call<'_>, nodes: &mut Vec<Node>) {
    expr(&c.expr, nodes);
    args(&c.args, nodes);
}

fn args(a: &[ast::CallArg<'_>], nodes: &mut Vec<Node>) {
    for arg in a {
        match arg {
            ast::CallArg::Pos(e)
            | ast::CallArg::Kwarg(_, e)
            | ast::CallArg::PosSplat(e)
            | ast::CallArg::KwargSplat(e) => expr(e, nodes),
        }
    }
}

fn expr(e: &ast::Expr<'_>, nodes: &mut Vec<Node>) {
    use ast::Expr;
    let range =
        |span: minijinja::machinery::Span| (span.start_offset as usize, span.end_offset as usize);
    match e {
        Expr::Var(_) | Expr::Const(_) => {}
        Expr::Slice(s) => {
            expr(&s.expr, nodes);
            for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                expr(part, nodes);
            }
        }
        Expr::UnaryOp(u) => expr(&u.expr, nodes),
        Expr::BinOp(b) => {
            let (start, end) = range(b.span());
            match b.op {
                ast::BinOpKind::Concat => nodes.push(Node::Concat(start, end)),
                ast::BinOpKind::In => nodes.push(Node::Compare(start, end)),
                _ => {}
            }
            expr(&b.left, nodes);
            expr(&b.right, nodes);
        }
        Expr::Compare(c) => {
            if c.ops
                .iter()
                .any(|op| matches!(op.op, ast::CompareOpKind::In | ast::CompareOpKind::NotIn))
            {
                let (start, end) = range(c.span());
                nodes.push(Node::Compare(start, end));
            }
            expr(&c.expr, nodes);
            for op in &c.ops {
                expr(&op.expr, nodes);
            }
        }
        Expr::IfExpr(i) => {
            expr(&i.test_expr, nodes);
            expr(&i.true_expr, nodes);
            if let Some(f) = &i.false_expr {
                expr(f, nodes);
            }
        }
        Expr::Filter(f) => {
            if let Some(e) = &f.expr {
                expr(e, nodes);
            }
            args(&f.args, nodes);
        }
        Expr::Test(t) => {
            expr(&t.expr, nodes);
            args(&t.args, nodes);
        }
        Expr::GetAttr(g) => expr(&g.expr, nodes),
        Expr::GetItem(g) => {
            expr(&g.expr, nodes);
            expr(&g.subscript_expr, nodes);
        }
        Expr::Call(c) => call(c, nodes),
        Expr::List(l) => l.items.iter().for_each(|e| expr(e, nodes)),
        Expr::Tuple(t) => t.items.iter().for_each(|e| expr(e, nodes)),
        Expr::Map(m) => m.keys.iter().chain(&m.values).for_each(|e| expr(e, nodes)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;

    /// Each template renders the same through the rewrite (the loader) as without it
    /// (`render_str`), and keeps its lines.
    #[test]
    fn the_rewrite_changes_no_output_and_no_line() {
        let templates = [
            "{{ 'a' ~ 'b' }}",
            "{{ 'a' ~ 1 ~ none ~ true }}",
            "{{ 'a' ~ [1, 'x'] ~ {'k': 'v'} }}",
            "{{ ('a' ~ 'b') | upper ~ 'c' | upper }}",
            "{{ 1 + 2 ~ 3 * 4 }}",
            "{{ -1 ~ x.y[0] ~ f(1, 'a' ~ 'b') }}",
            "{{ 'a' ~ 'b' if 'x' ~ 'y' == 'xy' else 'c' }}",
            "{{ 'a'\n ~\n 'b' }}",
            "{{ 'b' in 'abc' }} {{ 'b' ~ '' in 'abc' }} {{ 'd' not in 'abc' }}",
            "{{ [1] in [[1]] }} {{ 1 < 2 in [true] }} {{ 'a' in {'a': 1} }}",
            "{{ x.y is defined and 'q' in 'aqb' }}",
            "{% set s = 'x' ~ 'y' %}{% for i in [1, 2] if 'a' ~ i != 'a2' %}{{ s ~ i }}{% endfor %}",
            "{% macro m(a, b='d' ~ 'e') %}{{ a ~ b }}{% endmacro %}{{ m('c') }}",
            "{% filter upper %}{{ 'a' ~ 'b' }}{% endfilter %}",
            "{{ '~' ~ \"in\" }} {# a ~ b #}{% raw %}{{ a ~ b }}{% endraw %}",
            "{{ ns ~ '' }}",
        ];
        let partials: BTreeMap<String, String> = templates
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("t{i}"), t.to_string()))
            .collect();
        let env = super::super::template::environment(Arc::new(partials));
        let ctx = minijinja::context! {
            x => minijinja::context! { y => vec![7] },
            f => minijinja::Value::from_function(|a: i64, b: String| format!("{a}{b}")),
            ns => minijinja::context! { a => 1 },
        };
        for (i, t) in templates.iter().enumerate() {
            let rewritten = rewrite(t, &super::super::template::syntax());
            assert_eq!(rewritten.source.lines().count(), t.lines().count(), "{t}");
            let through = env
                .get_template(&format!("t{i}"))
                .and_then(|tmpl| tmpl.render(&ctx));
            let plain = env.render_str(t, &ctx);
            let error = |e: minijinja::Error| (e.kind(), e.detail().map(str::to_string), e.line());
            assert_eq!(
                through.map_err(error),
                plain.map_err(error),
                "{t}\nrewritten: {}",
                rewritten.source
            );
        }
    }

    #[test]
    fn an_offset_maps_back_to_what_the_user_wrote() {
        let source = "{{ a ~ b }}";
        let rewritten = rewrite(source, &super::super::template::syntax());
        assert_eq!(
            rewritten.source,
            "{{ (a)|__strata_concat ~ (b)|__strata_concat }}"
        );
        let b = rewritten.source.find("(b)").unwrap_or(0);
        assert_eq!(rewritten.original_offset(b), 7);
        assert_eq!(rewritten.original_offset(b + 1), 7);
        assert_eq!(
            rewritten.original_offset(rewritten.source.len()),
            source.len()
        );
    }
}
