//! One games-table row, deserialized straight from the snapshot's JSON into only what
//! [`super::build_model`] needs (docs/decisions/309, "Reading the snapshot").
//!
//! Each type accepts any JSON value and keeps what the `serde_json::Value` reading kept before:
//! an id is a number that fits a `u32` or an object whose `"id"` is one; a number is any JSON
//! number; a string only a JSON string; anything else is ignored, never an error. A key given
//! twice keeps its last value (as a `Value` map did). Whatever is not kept goes through
//! [`Skip`], so a file is rejected exactly when a `Value` reading rejects it.

use playalike_igdb::snapshot::Skip;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A value that is an id, or an object with an id (and maybe a name, company, image id), or
/// neither: what `as_id`, `o.get("name")`, `ic.get("company")` and `cover.image_id` read.
#[derive(Debug, Default)]
pub(super) struct Item {
    /// `as_id` of the value.
    pub id: Option<u32>,
    /// The value is an object.
    pub is_object: bool,
    /// Its `"name"`, when an object with a string name.
    pub name: Option<String>,
    /// `as_id` of its `"company"`, when an object.
    pub company: Option<u32>,
    /// Its `"image_id"`, when an object with a string one.
    pub image_id: Option<String>,
}

/// A list of ids (or one id): `ids_of`, plus what the list's objects carry when it is an array.
#[derive(Debug, Default)]
pub(super) struct IdList {
    /// `ids_of` the value.
    pub ids: Vec<u32>,
    /// The value is an array.
    pub is_array: bool,
    /// Elements (of an array) with both an id and a string name, in order.
    pub named: Vec<(u32, String)>,
    /// String names of the array's object elements, with or without an id, in order.
    pub names: Vec<String>,
    /// `as_id` of the `"company"` of the array's object elements, in order.
    pub companies: Vec<u32>,
}

/// A JSON number as `Value::as_f64` reads it, and as `Value::as_i64` does (`None` for any other
/// value).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Num(pub Option<f64>, pub Option<i64>);

/// A JSON string (`None` for any other value).
#[derive(Debug, Default)]
pub(super) struct Str(pub Option<String>);

/// The fields of a game row that the features read; absent keys stay at their defaults.
#[derive(Debug, Default)]
pub(super) struct Row {
    pub id: Item,
    pub name: Str,
    pub slug: Str,
    pub alternative_names: IdList,
    /// Per field ([`playalike_engine::Field::index`]) the value of the key [`Field::name`].
    pub fields: [IdList; playalike_engine::FIELD_COUNT],
    pub franchise: IdList,
    pub collection: IdList,
    pub involved_companies: IdList,
    pub similar_games: IdList,
    pub cover: Option<Item>,
    pub game_type: Item,
    pub category: Item,
    pub total_rating: Num,
    pub total_rating_count: Num,
    pub aggregated_rating: Num,
    pub aggregated_rating_count: Num,
    pub rating: Num,
    pub rating_count: Num,
    pub follows: Num,
    pub hypes: Num,
    pub first_release_date: Num,
    /// `updated_at` as `Value::as_i64` reads it (for the blob's default `created_at`).
    pub updated_at: Num,
}

/// A map key: the ones a row or an [`Item`] reads, or another.
#[derive(Clone, Copy)]
enum Key {
    Field(usize),
    Id,
    Name,
    Slug,
    AlternativeNames,
    Franchise,
    Collection,
    InvolvedCompanies,
    SimilarGames,
    Cover,
    GameType,
    Category,
    TotalRating,
    TotalRatingCount,
    AggregatedRating,
    AggregatedRatingCount,
    Rating,
    RatingCount,
    Follows,
    Hypes,
    FirstReleaseDate,
    UpdatedAt,
    Company,
    ImageId,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                if let Some(f) = playalike_engine::Field::from_name(v) {
                    return Ok(Key::Field(f.index()));
                }
                Ok(match v {
                    "id" => Key::Id,
                    "name" => Key::Name,
                    "slug" => Key::Slug,
                    "alternative_names" => Key::AlternativeNames,
                    "franchise" => Key::Franchise,
                    "collection" => Key::Collection,
                    "involved_companies" => Key::InvolvedCompanies,
                    "similar_games" => Key::SimilarGames,
                    "cover" => Key::Cover,
                    "game_type" => Key::GameType,
                    "category" => Key::Category,
                    "total_rating" => Key::TotalRating,
                    "total_rating_count" => Key::TotalRatingCount,
                    "aggregated_rating" => Key::AggregatedRating,
                    "aggregated_rating_count" => Key::AggregatedRatingCount,
                    "rating" => Key::Rating,
                    "rating_count" => Key::RatingCount,
                    "follows" => Key::Follows,
                    "hypes" => Key::Hypes,
                    "first_release_date" => Key::FirstReleaseDate,
                    "updated_at" => Key::UpdatedAt,
                    "company" => Key::Company,
                    "image_id" => Key::ImageId,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Implements the scalar visits of a lenient visitor: each returns `$scalar(value)`.
macro_rules! scalars {
    ($t:ty, $num:expr, $other:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<$t, E> {
            Ok($other)
        }
        fn visit_i64<E>(self, v: i64) -> Result<$t, E> {
            Ok($num(Number::I(v)))
        }
        fn visit_u64<E>(self, v: u64) -> Result<$t, E> {
            Ok($num(Number::U(v)))
        }
        fn visit_f64<E>(self, v: f64) -> Result<$t, E> {
            Ok($num(Number::F(v)))
        }
        fn visit_unit<E>(self) -> Result<$t, E> {
            Ok($other)
        }
    };
}

/// A JSON number as serde_json hands it over.
#[derive(Clone, Copy)]
enum Number {
    I(i64),
    U(u64),
    F(f64),
}

impl Number {
    /// `Value::Number(n).as_u64()` then `u32::try_from` (a `Value` stores a non-negative i64 as
    /// a u64).
    fn id(self) -> Option<u32> {
        match self {
            Number::I(i) => u32::try_from(i).ok(),
            Number::U(u) => u32::try_from(u).ok(),
            Number::F(_) => None,
        }
    }
    /// `Value::as_i64`.
    fn i64(self) -> Option<i64> {
        match self {
            Number::I(i) => Some(i),
            Number::U(u) => i64::try_from(u).ok(),
            Number::F(_) => None,
        }
    }
    /// `Value::as_f64`.
    fn f64(self) -> f64 {
        match self {
            Number::I(i) => i as f64,
            Number::U(u) => u as f64,
            Number::F(f) => f,
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Num, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars!(Num, |n: Number| Num(Some(n.f64()), n.i64()), Num(None, None));
            fn visit_str<E>(self, _: &str) -> Result<Num, E> {
                Ok(Num(None, None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Num, A::Error> {
                skip_seq(seq).map(|()| Num(None, None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Num, A::Error> {
                skip_map(map).map(|()| Num(None, None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Str {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Str, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars!(Str, |_| Str(None), Str(None));
            fn visit_str<E>(self, v: &str) -> Result<Str, E> {
                Ok(Str(Some(v.to_string())))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Str, A::Error> {
                skip_seq(seq).map(|()| Str(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Str, A::Error> {
                skip_map(map).map(|()| Str(None))
            }
        }
        d.deserialize_any(V)
    }
}

fn skip_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<Skip>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<Skip, Skip>()?.is_some() {}
    Ok(())
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Item, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Item;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars!(Item, |n: Number| Item { id: n.id(), ..Item::default() }, Item::default());
            fn visit_str<E>(self, _: &str) -> Result<Item, E> {
                Ok(Item::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item, A::Error> {
                skip_seq(seq).map(|()| Item::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
                let mut item = Item { is_object: true, ..Item::default() };
                while let Some(k) = map.next_key::<Key>()? {
                    match k {
                        Key::Id => item.id = map.next_value::<Item>()?.id,
                        Key::Name => item.name = map.next_value::<Str>()?.0,
                        Key::Company => item.company = map.next_value::<Item>()?.id,
                        Key::ImageId => item.image_id = map.next_value::<Str>()?.0,
                        _ => {
                            map.next_value::<Skip>()?;
                        }
                    }
                }
                Ok(item)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for IdList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<IdList, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IdList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars!(
                IdList,
                |n: Number| IdList { ids: n.id().into_iter().collect(), ..IdList::default() },
                IdList::default()
            );
            fn visit_str<E>(self, _: &str) -> Result<IdList, E> {
                Ok(IdList::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdList, A::Error> {
                let mut list = IdList { is_array: true, ..IdList::default() };
                while let Some(item) = seq.next_element::<Item>()? {
                    if let Some(id) = item.id {
                        list.ids.push(id);
                    }
                    if let Some(c) = item.company {
                        list.companies.push(c);
                    }
                    if let Some(name) = item.name {
                        if let Some(id) = item.id {
                            list.named.push((id, name.clone()));
                        }
                        list.names.push(name);
                    }
                }
                Ok(list)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<IdList, A::Error> {
                let item = Item::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(IdList { ids: item.id.into_iter().collect(), ..IdList::default() })
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Row, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Row;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            scalars!(Row, |_| Row::default(), Row::default());
            fn visit_str<E>(self, _: &str) -> Result<Row, E> {
                Ok(Row::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Row, A::Error> {
                skip_seq(seq).map(|()| Row::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
                let mut r = Row::default();
                while let Some(k) = map.next_key::<Key>()? {
                    match k {
                        Key::Field(i) => r.fields[i] = map.next_value()?,
                        Key::Id => r.id = map.next_value()?,
                        Key::Name => r.name = map.next_value()?,
                        Key::Slug => r.slug = map.next_value()?,
                        Key::AlternativeNames => r.alternative_names = map.next_value()?,
                        Key::Franchise => r.franchise = map.next_value()?,
                        Key::Collection => r.collection = map.next_value()?,
                        Key::InvolvedCompanies => r.involved_companies = map.next_value()?,
                        Key::SimilarGames => r.similar_games = map.next_value()?,
                        Key::Cover => r.cover = Some(map.next_value()?),
                        Key::GameType => r.game_type = map.next_value()?,
                        Key::Category => r.category = map.next_value()?,
                        Key::TotalRating => r.total_rating = map.next_value()?,
                        Key::TotalRatingCount => r.total_rating_count = map.next_value()?,
                        Key::AggregatedRating => r.aggregated_rating = map.next_value()?,
                        Key::AggregatedRatingCount => r.aggregated_rating_count = map.next_value()?,
                        Key::Rating => r.rating = map.next_value()?,
                        Key::RatingCount => r.rating_count = map.next_value()?,
                        Key::Follows => r.follows = map.next_value()?,
                        Key::Hypes => r.hypes = map.next_value()?,
                        Key::FirstReleaseDate => r.first_release_date = map.next_value()?,
                        Key::UpdatedAt => r.updated_at = map.next_value()?,
                        Key::Company | Key::ImageId | Key::Other => {
                            map.next_value::<Skip>()?;
                        }
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_any(V)
    }
}
