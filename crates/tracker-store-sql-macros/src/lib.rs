//! `#[sql_bounds]` gives an `impl<D: Engine> … for SqlStore<D>` block of
//! tracker-store-sql the `where` clause sqlx needs to know of `D`.
//!
//! A trait cannot carry these bounds for its implementors: Rust implies only
//! bounds on `Self` (supertraits) and on its associated types, while these
//! are on `i64`, `&str`, `&mut D::Connection` and the like, so every generic
//! impl would have to spell them out again. The list lives here once
//! instead. Paths are absolute except `crate::Value`, so the attribute is
//! for tracker-store-sql's own impls only.

use proc_macro::{Delimiter, TokenStream, TokenTree};

const BOUNDS: &str = "where
    for<'c> &'c mut <D as ::sqlx::Database>::Connection: ::sqlx::Executor<'c, Database = D>,
    for<'q> <D as ::sqlx::Database>::Arguments<'q>: ::sqlx::IntoArguments<'q, D>,
    for<'q> &'q str: ::sqlx::Encode<'q, D> + ::sqlx::Type<D>,
    i64: crate::Value<D>,
    f64: crate::Value<D>,
    bool: crate::Value<D>,
    ::std::string::String: crate::Value<D>,
    ::chrono::DateTime<::chrono::Utc>: crate::Value<D>,
    ::std::option::Option<i64>: crate::Value<D>,
    ::std::option::Option<::std::string::String>: crate::Value<D>,
    ::std::option::Option<::chrono::DateTime<::chrono::Utc>>: crate::Value<D>,
    usize: ::sqlx::ColumnIndex<<D as ::sqlx::Database>::Row>,
    for<'n> &'n str: ::sqlx::ColumnIndex<<D as ::sqlx::Database>::Row>,";

/// Adds the bounds before the block's body; the block must have no `where`
/// clause of its own and name its engine parameter `D`.
#[proc_macro_attribute]
pub fn sql_bounds(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return error("#[sql_bounds] takes no arguments");
    }
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    if tokens
        .iter()
        .any(|t| matches!(t, TokenTree::Ident(i) if i.to_string() == "where"))
    {
        return error("#[sql_bounds] writes the `where` clause: leave it out");
    }
    let body = match tokens.pop() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
        _ => return error("#[sql_bounds] goes on an impl block"),
    };
    let bounds: TokenStream = match BOUNDS.parse() {
        Ok(b) => b,
        Err(e) => return error(&e.to_string()),
    };
    let mut out: TokenStream = tokens.into_iter().collect();
    out.extend(bounds);
    out.extend([TokenTree::Group(body)]);
    out
}

fn error(message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?});")
        .parse()
        .unwrap_or_default()
}
