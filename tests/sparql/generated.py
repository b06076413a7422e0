"""A small shop-like RDF graph, split over three endpoints with overlaps, and queries over all of SPARQL."""

from __future__ import annotations

import random

EX = "http://example.org/shop/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _iri(local: str) -> str:
    return f"<{EX}{local}>"


def _lit(value: object, datatype: str | None = None, lang: str | None = None) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    if lang:
        return f'"{text}"@{lang}'
    if datatype:
        return f'"{text}"^^<{XSD}{datatype}>'
    return f'"{text}"'


def generate(seed: int = 7, scale: int = 1) -> list[str]:
    """N-Triples lines of the whole graph (each triple once); ``scale`` multiplies products and offers."""
    rnd = random.Random(seed)
    out: list[str] = []

    def add(s: str, p: str, o: str) -> None:
        out.append(f"{s} {p} {o} .")

    typ = f"<{RDF_TYPE}>"
    for c in range(4):
        add(_iri(f"country{c}"), _iri("name"), _lit(f"Country {c}", lang="en"))
    for j in range(8):
        producer = _iri(f"producer{j}")
        add(producer, typ, _iri("Producer"))
        add(producer, _iri("name"), _lit(f"Producer {j}"))
        add(producer, _iri("country"), _iri(f"country{j % 4}"))
    for k in range(12):
        feature = _iri(f"feature{k}")
        add(feature, typ, _iri("Feature"))
        add(feature, _iri("label"), _lit(f"feature {k}", lang="en"))
        if k > 0:
            add(feature, _iri("subFeatureOf"), _iri(f"feature{(k - 1) // 2}"))
    for i in range(60 * scale):
        product = _iri(f"product{i}")
        add(product, typ, _iri("Product"))
        if i % 5 == 0:
            add(product, typ, _iri("SpecialProduct"))
        add(product, _iri("label"), _lit(f"Product {i}", lang="en"))
        if i % 3 == 0:
            add(product, _iri("label"), _lit(f"Produit {i}", lang="fr"))
        add(product, _iri("price"), _lit(rnd.randint(5, 200), "integer"))
        add(product, _iri("producer"), _iri(f"producer{rnd.randrange(8)}"))
        for k in rnd.sample(range(12), rnd.randint(1, 3)):
            add(product, _iri("feature"), _iri(f"feature{k}"))
        if i % 4 != 0:
            add(product, _iri("rating"), _lit(f"{rnd.randint(10, 50) / 10}", "decimal"))
        add(
            product,
            _iri("released"),
            _lit(f"202{rnd.randint(0, 4)}-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)}", "date"),
        )
    for v in range(5):
        vendor = _iri(f"vendor{v}")
        add(vendor, typ, _iri("Vendor"))
        add(vendor, _iri("name"), _lit(f"Vendor {v}"))
        add(vendor, _iri("country"), _iri(f"country{v % 4}"))
    for m in range(120 * scale):
        offer = _iri(f"offer{m}")
        add(offer, typ, _iri("Offer"))
        add(offer, _iri("product"), _iri(f"product{rnd.randrange(60 * scale)}"))
        add(offer, _iri("vendor"), _iri(f"vendor{rnd.randrange(5)}"))
        add(offer, _iri("offerPrice"), _lit(rnd.randint(3, 250), "integer"))
        if m % 7 == 0:
            add(offer, _iri("deliveryDays"), _lit(rnd.randint(1, 9), "integer"))
    for a in range(20):
        for b in rnd.sample(range(20), 2):
            if a != b:
                add(_iri(f"person{a}"), _iri("knows"), _iri(f"person{b}"))
        add(_iri(f"person{a}"), _iri("name"), _lit(f"Person {a}"))
    return sorted(set(out))


def split(lines: list[str], parts: int = 3, seed: int = 11, overlap: float = 0.2) -> list[list[str]]:
    """Each triple to one endpoint, a fifth of them to a second one as well."""
    rnd = random.Random(seed)
    out: list[list[str]] = [[] for _ in range(parts)]
    for line in lines:
        home = rnd.randrange(parts)
        out[home].append(line)
        if rnd.random() < overlap:
            out[(home + 1 + rnd.randrange(parts - 1)) % parts].append(line)
    return out


P = f"PREFIX ex: <{EX}> PREFIX xsd: <{XSD}> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>\n"

QUERIES: dict[str, str] = {
    "bgp_single_pattern": "SELECT ?p ?price WHERE { ?p ex:price ?price }",
    "bgp_constant_subject": "SELECT ?p ?o WHERE { ex:product3 ?p ?o }",
    "bgp_star": "SELECT ?p ?l ?price WHERE { ?p a ex:Product ; ex:label ?l ; ex:price ?price }",
    "bgp_chain_across_sources": "SELECT ?o ?name ?c WHERE { ?o ex:product ?p . ?p ex:producer ?pr . ?pr ex:country ?c . ?c ex:name ?name }",
    "bgp_selective_constant": "SELECT ?offer ?price WHERE { ?offer ex:vendor ex:vendor2 ; ex:offerPrice ?price }",
    "bgp_variable_predicate": 'SELECT ?p ?o WHERE { ?s ?p ?o . ?s ex:name "Vendor 1" }',
    "bgp_type_variable": "SELECT ?s ?t WHERE { ?s a ?t ; ex:name ?n }",
    "bgp_repeated_variable": "SELECT ?a WHERE { ?a ex:knows ?b . ?b ex:knows ?a }",
    "filter_numeric": "SELECT ?p ?price WHERE { ?p ex:price ?price FILTER(?price > 150) }",
    "filter_regex_lang": 'SELECT ?p ?l WHERE { ?p ex:label ?l FILTER(regex(?l, "^Produit 1") && lang(?l) = "fr") }',
    "filter_cross_pattern": "SELECT ?o ?p WHERE { ?o ex:product ?p ; ex:offerPrice ?op . ?p ex:price ?pp FILTER(?op < ?pp) }",
    "filter_in": "SELECT ?o WHERE { ?o ex:vendor ?v FILTER(?v IN (ex:vendor0, ex:vendor3)) }",
    "filter_datatype": "SELECT ?p WHERE { ?p ex:rating ?r FILTER(datatype(?r) = xsd:decimal && ?r >= 4.0) }",
    "filter_date": 'SELECT ?p ?d WHERE { ?p ex:released ?d FILTER(?d > "2023-01-01"^^xsd:date) }',
    "optional_simple": "SELECT ?p ?r WHERE { ?p a ex:Product OPTIONAL { ?p ex:rating ?r } }",
    "optional_with_filter": "SELECT ?p ?r WHERE { ?p a ex:SpecialProduct OPTIONAL { ?p ex:rating ?r FILTER(?r > 3) } }",
    "optional_nested": "SELECT ?o ?d ?n WHERE { ?o a ex:Offer OPTIONAL { ?o ex:deliveryDays ?d OPTIONAL { ?o ex:vendor ?v . ?v ex:name ?n } } }",
    "optional_bound_filter": "SELECT ?p WHERE { ?p a ex:Product OPTIONAL { ?p ex:rating ?r } FILTER(!bound(?r)) }",
    "union": "SELECT ?x ?n WHERE { { ?x a ex:Vendor ; ex:name ?n } UNION { ?x a ex:Producer ; ex:name ?n } }",
    "union_bag": "SELECT ?c WHERE { { ?v ex:country ?c } UNION { ?c ex:name ?n } }",
    "minus": "SELECT ?p WHERE { ?p a ex:Product MINUS { ?p a ex:SpecialProduct } }",
    "minus_no_shared_vars": "SELECT ?p WHERE { ?p a ex:SpecialProduct MINUS { ?x a ex:Vendor } }",
    "not_exists": "SELECT ?p WHERE { ?p a ex:Product FILTER NOT EXISTS { ?o ex:product ?p } }",
    "exists": "SELECT ?v WHERE { ?v a ex:Vendor FILTER EXISTS { ?o ex:vendor ?v ; ex:deliveryDays ?d } }",
    "bind": "SELECT ?p ?double WHERE { ?p ex:price ?price BIND(?price * 2 AS ?double) FILTER(?double > 300) }",
    "bind_string": "SELECT ?v ?up WHERE { ?v a ex:Vendor ; ex:name ?n BIND(UCASE(?n) AS ?up) }",
    "values_inline": "SELECT ?p ?price WHERE { VALUES ?p { ex:product1 ex:product2 ex:product40 ex:nothing } ?p ex:price ?price }",
    "values_trailing": "SELECT ?v ?n WHERE { ?v ex:name ?n } VALUES ?v { ex:vendor1 ex:producer2 }",
    "subquery_limit": "SELECT ?p ?l WHERE { { SELECT ?p WHERE { ?p ex:price ?x } ORDER BY DESC(?x) ?p LIMIT 5 } ?p ex:label ?l }",
    "subquery_aggregate": "SELECT ?v ?n WHERE { ?v ex:name ?vn . { SELECT ?v (COUNT(?o) AS ?n) WHERE { ?o ex:vendor ?v } GROUP BY ?v } }",
    "count_all": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "group_by_having": "SELECT ?v (COUNT(?o) AS ?n) (AVG(?pr) AS ?avg) WHERE { ?o ex:vendor ?v ; ex:offerPrice ?pr } GROUP BY ?v HAVING (COUNT(?o) > 20)",
    "group_concat_sample": 'SELECT ?pr (MAX(?l) AS ?ls) (MIN(?price) AS ?min) WHERE { ?p ex:producer ?pr ; ex:label ?l ; ex:price ?price FILTER(lang(?l) = "en") } GROUP BY ?pr',
    "count_distinct": "SELECT (COUNT(DISTINCT ?v) AS ?n) (SUM(?d) AS ?sum) WHERE { ?o ex:vendor ?v ; ex:deliveryDays ?d }",
    "order_limit_offset": "SELECT ?p ?price WHERE { ?p ex:price ?price } ORDER BY DESC(?price) ?p LIMIT 7 OFFSET 3",
    "distinct": "SELECT DISTINCT ?pr WHERE { ?p ex:producer ?pr }",
    "reduced_projection": "SELECT ?c WHERE { ?x ex:country ?c }",
    "path_sequence": "SELECT ?o ?c WHERE { ?o ex:product/ex:producer/ex:country ?c }",
    "path_inverse": "SELECT ?p ?o WHERE { ex:vendor1 ^ex:vendor ?o . ?o ex:product ?p }",
    "path_alternative": 'SELECT ?x ?n WHERE { ?x (ex:name|ex:label) ?n FILTER(strstarts(str(?n), "V")) }',
    "path_star_bound": "SELECT ?f WHERE { ex:feature11 ex:subFeatureOf* ?f }",
    "path_plus_variable": "SELECT ?p ?f WHERE { ?p ex:feature ?x . ?x ex:subFeatureOf+ ?f FILTER(?p = ex:product7) }",
    "path_optional_step": "SELECT ?a ?b WHERE { ex:person3 ex:knows? ?b . BIND(ex:person3 AS ?a) }",
    "path_knows_closure": "SELECT DISTINCT ?b WHERE { ex:person0 ex:knows+ ?b }",
    "path_negated": "SELECT ?p ?o WHERE { ex:vendor1 !(ex:name|rdf:type) ?o . BIND(1 AS ?p) }",
    "path_inverse_star": "SELECT ?f WHERE { ex:feature0 ^ex:subFeatureOf* ?f }",
    "lang_and_datatype_functions": "SELECT ?p (LANG(?l) AS ?lang) (DATATYPE(?price) AS ?dt) WHERE { ?p ex:label ?l ; ex:price ?price FILTER(?price < 20) }",
    "ask_true": "ASK { ?o ex:vendor ex:vendor3 ; ex:product ?p . ?p ex:producer ?pr }",
    "ask_false": "ASK { ex:vendor1 ex:knows ?x }",
    "construct": "CONSTRUCT { ?v ex:sells ?p } WHERE { ?o ex:vendor ?v ; ex:product ?p . ?p a ex:SpecialProduct }",
    "construct_where_bnode": "CONSTRUCT { ?p ex:offeredBy [ ex:vendor ?v ] } WHERE { ?o ex:product ?p ; ex:vendor ex:vendor4, ?v }",
}
QUERIES = {name: P + text for name, text in QUERIES.items()}
