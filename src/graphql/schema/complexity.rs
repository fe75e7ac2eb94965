//! What each field costs in the complexity limit (`Limits::max_complexity`, checked by
//! async-graphql): the `complexity` of a list or connection field multiplies what is selected
//! per item by how many items it may hold.

use super::connection::DEFAULT_PAGE_SIZE;

/// The most one field can cost. async-graphql adds the costs of sibling fields with a plain `+`,
/// so a field costing near `usize::MAX` (a `first` of two billion over a deep selection) would
/// wrap the sum around in a release build and let a heavy sibling through as cheap. Capped here,
/// no sum of the fields a query may hold comes near overflowing, and anything at the cap is
/// beyond every limit and budget (which are `u32`).
const MAX_FIELD_COST: usize = u32::MAX as usize;

/// The cost of a field that holds `items` of a selection costing `child` each.
fn items_cost(items: usize, child: usize) -> usize {
    items
        .saturating_mul(child)
        .saturating_add(1)
        .min(MAX_FIELD_COST)
}

/// The cost of a connection field: the page size times the cost of what is selected per item.
pub fn connection_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let size = first.or(last).map_or(DEFAULT_PAGE_SIZE as usize, |n| {
        usize::try_from(n).unwrap_or(0)
    });
    items_cost(size.max(1), child)
}

/// The cost of a list without paging (an influencer's segments, a campaign's audience): an
/// estimate of its usual length times its selection.
pub fn list_cost(child: usize) -> usize {
    items_cost(10, child)
}

/// The cost of a lookup of `ids`: one item per id.
pub fn lookup_cost(ids: usize, child: usize) -> usize {
    items_cost(ids, child)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_cost_uses_the_page_size() {
        assert_eq!(connection_cost(Some(10), None, 3), 31);
        assert_eq!(connection_cost(None, Some(5), 2), 11);
        assert_eq!(connection_cost(None, None, 1), 21);
        assert_eq!(connection_cost(Some(-5), None, 1), 2);
    }

    #[test]
    fn no_field_costs_more_than_the_cap_so_sums_cannot_wrap() {
        let huge = connection_cost(Some(i32::MAX), None, usize::MAX / 2);
        assert_eq!(huge, MAX_FIELD_COST);
        // The most fields a query may select (MAX_QUERY_TOKENS) at the cap each still fit.
        assert!(
            huge.checked_mul(crate::config::defaults::MAX_QUERY_TOKENS)
                .is_some()
        );
        assert_eq!(lookup_cost(usize::MAX, 2), MAX_FIELD_COST);
        assert_eq!(list_cost(usize::MAX), MAX_FIELD_COST);
    }
}
