//! A person's status per product. LinkedIn's products are separate application
//! instances, each with its own IdP app: what one product's IdP writes to `active` is that
//! product's status, and another product's IdP never reads or overwrites it. The person
//! is active for the account while any product holds them active. (docs/licensing.md,
//! "Per-product status".)

use std::collections::BTreeMap;

use serde_json::Value;

use super::Product;

/// `active` per product that has written the person (product slug → active).
pub type ProductStatuses = BTreeMap<String, bool>;

/// The document's `active` (a missing one is active, as a create keeps it).
pub fn doc_active(doc: &Value) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

/// `active` as a configuration of `product` sees it: that product's status, or the
/// person's (`person`) when the product has not written them yet, or for a
/// configuration that assigns no product.
pub fn seen_active(person: bool, statuses: &ProductStatuses, product: Option<&Product>) -> bool {
    product
        .and_then(|p| statuses.get(p.as_str()).copied())
        .unwrap_or(person)
}

/// The document as a configuration of `product` sees it (its `active` replaced by
/// [`seen_active`]; a document without `active` keeps none unless the product's status
/// says otherwise).
pub fn view(doc: &mut Value, statuses: &ProductStatuses, product: Option<&Product>) {
    let Some(status) = product.and_then(|p| statuses.get(p.as_str()).copied()) else {
        return;
    };
    if let Some(map) = doc.as_object_mut() {
        map.insert("active".to_owned(), Value::Bool(status));
    }
}

/// A write through a configuration of `product` left `active` (the product's status, as
/// the client sent it): record it, and return the person's `active` to store: active
/// while any product holds them active. A configuration that assigns no product writes
/// the person's `active` itself and no product's status.
pub fn record(statuses: &mut ProductStatuses, product: Option<&Product>, active: bool) -> bool {
    match product {
        Some(p) => {
            statuses.insert(p.as_str().to_owned(), active);
            statuses.values().any(|&a| a)
        }
        None => active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn learning() -> Product {
        Product::learning()
    }

    #[test]
    fn each_product_sees_its_own_status_and_the_person_is_active_while_any_is() {
        let (sn, learning) = (Product::sales_navigator(), learning());
        let mut statuses = ProductStatuses::new();
        assert!(record(&mut statuses, Some(&sn), true));
        assert!(
            record(&mut statuses, Some(&learning), false),
            "Sales Navigator still holds them"
        );
        assert!(seen_active(true, &statuses, Some(&sn)));
        assert!(!seen_active(true, &statuses, Some(&learning)));
        assert!(
            !record(&mut statuses, Some(&sn), false),
            "no product holds them active"
        );
        // A product that never wrote the person sees the person's status.
        let elevate = Product::try_from(Product::ELEVATE.to_owned()).expect("a slug");
        assert!(!seen_active(false, &statuses, Some(&elevate)));
        // A configuration without a product writes the person only.
        assert!(record(&mut statuses, None, true));
        assert_eq!(statuses.len(), 2);
    }

    #[test]
    fn the_view_replaces_active_only_for_a_product_that_wrote_the_person() {
        let statuses = ProductStatuses::from([("learning".to_owned(), false)]);
        let mut doc = json!({"userName": "a", "active": true});
        view(&mut doc, &statuses, None);
        assert_eq!(doc["active"], true);
        view(&mut doc, &statuses, Some(&Product::sales_navigator()));
        assert_eq!(doc["active"], true);
        view(&mut doc, &statuses, Some(&learning()));
        assert_eq!(doc["active"], false);
        assert!(doc_active(&json!({})));
    }
}
