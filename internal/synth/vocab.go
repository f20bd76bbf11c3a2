package synth

import (
	"time"

	"atalaya"
)

// language holds what is specific to one language: its release type, date
// format, general sentences and slot words.
type language struct {
	releaseType string
	date        func(time.Time) string
	general     []string
	slots       map[string][]string
}

type topicKind int

const (
	neutral topicKind = iota
	kingpin
	rootCauseKind
)

// topic is a subject a release can be about, with its theme and the title
// and sentence templates for each language.
type topic struct {
	kind      topicKind
	theme     string
	titles    map[atalaya.Language][]string
	sentences map[atalaya.Language][]string
}

var langs = map[atalaya.Language]*language{
	atalaya.English: {
		releaseType: "Press Release",
		date:        dateEN,
		general: []string{
			"The Department will continue to work with its partners in the region to protect communities.",
			"Officials met with counterparts from {country} to review progress on shared commitments.",
			"The announcement follows months of coordination among federal, state and local authorities.",
			"Further information is available from the {office} on its website.",
			"This action reflects the priorities set out in the national strategy for {year_plan}.",
			"The Secretary thanked the authorities of {country} for their cooperation and commitment.",
			"Both governments agreed to meet again before the end of the year to assess results.",
			"The measures announced today build on steps taken in {place} and {place2}.",
		},
		slots: map[string][]string{
			"org":       {"the Costa Azul network", "the Norte Grande organization", "the Hermanos Vidal group", "the Río Bravo cell", "the Sierra Madre syndicate", "the Puerto Claro ring", "the Valle Seco faction"},
			"place":     {"Sinaloa", "Jalisco", "Tamaulipas", "Baja California", "Sonora", "Michoacán", "Guerrero", "Chihuahua", "Arizona", "Texas", "California", "New Mexico"},
			"place2":    {"Culiacán", "Tijuana", "Ciudad Juárez", "Reynosa", "Nogales", "El Paso", "San Diego", "Laredo", "Manzanillo", "Lázaro Cárdenas"},
			"country":   {"Mexico", "Colombia", "Guatemala", "Honduras", "Canada", "China", "India", "Panama", "Ecuador"},
			"office":    {"Bureau of International Narcotics and Law Enforcement Affairs", "Office of Foreign Assets Control", "Bureau of Western Hemisphere Affairs", "Financial Crimes Enforcement Network", "Office of National Drug Control Policy"},
			"drug":      {"fentanyl", "methamphetamine", "heroin", "cocaine", "synthetic opioids", "counterfeit pills"},
			"chem":      {"precursor chemicals", "pill presses", "industrial solvents", "fentanyl precursors", "pre-precursors"},
			"weapon":    {"rifles", "firearms", "ammunition", "high-caliber weapons", "weapon parts"},
			"program":   {"community health centers", "school-based prevention programs", "addiction treatment clinics", "youth mentoring programs", "naloxone distribution", "job training initiatives"},
			"year_plan": {"drug control", "border security", "public health", "countering transnational crime"},
			"person":    {"a senior financial operator", "the alleged leader", "two regional commanders", "a money launderer", "a logistics coordinator", "three associates"},
		},
	},
	atalaya.Spanish: {
		releaseType: "Comunicado",
		date:        dateES,
		general: []string{
			"El Gobierno de México reiteró su compromiso con la paz y la seguridad de las familias.",
			"Las autoridades de {country} y de México acordaron dar seguimiento a los compromisos asumidos.",
			"La reunión se realizó en un ambiente de respeto mutuo y responsabilidad compartida.",
			"La información completa puede consultarse en el portal de la {office}.",
			"Estas acciones forman parte de la Estrategia Nacional de {year_plan}.",
			"La dependencia agradeció la colaboración de las autoridades estatales y municipales.",
			"Ambas delegaciones coincidieron en la importancia de atender las causas de la violencia.",
			"Las medidas anunciadas se suman a los trabajos realizados en {place} y {place2}.",
		},
		slots: map[string][]string{
			"org":       {"la red Costa Azul", "la organización Norte Grande", "el grupo de los Hermanos Vidal", "la célula Río Bravo", "el sindicato Sierra Madre", "la banda Puerto Claro", "la facción Valle Seco"},
			"place":     {"Sinaloa", "Jalisco", "Tamaulipas", "Baja California", "Sonora", "Michoacán", "Guerrero", "Chihuahua", "Zacatecas", "Guanajuato", "Colima", "Estado de México"},
			"place2":    {"Culiacán", "Tijuana", "Ciudad Juárez", "Reynosa", "Nogales", "Manzanillo", "Lázaro Cárdenas", "Morelia", "Acapulco", "Celaya"},
			"country":   {"Estados Unidos", "Colombia", "Guatemala", "Honduras", "Canadá", "China", "España", "Panamá", "Ecuador"},
			"office":    {"Secretaría de Relaciones Exteriores", "Secretaría de Seguridad y Protección Ciudadana", "Fiscalía General de la República", "Secretaría de Salud", "Comisión Nacional contra las Adicciones"},
			"drug":      {"fentanilo", "metanfetamina", "heroína", "cocaína", "opioides sintéticos", "pastillas falsificadas"},
			"chem":      {"precursores químicos", "prensas para pastillas", "solventes industriales", "precursores de fentanilo", "sustancias químicas controladas"},
			"weapon":    {"armas de fuego", "rifles de asalto", "cartuchos", "armas de alto calibre", "piezas de armas"},
			"program":   {"centros comunitarios de salud", "programas de prevención en escuelas", "clínicas de atención a las adicciones", "becas para jóvenes", "brigadas de salud mental", "programas de empleo"},
			"year_plan": {"Seguridad Pública", "Prevención de Adicciones", "Atención a las Causas", "Salud Mental y Adicciones"},
			"person":    {"un operador financiero", "el presunto líder", "dos jefes regionales", "un operador de lavado de dinero", "un coordinador logístico", "tres integrantes"},
		},
	},
}

var topics = []*topic{
	{
		kind: kingpin, theme: "sanctions",
		titles: map[atalaya.Language][]string{
			atalaya.English: {"Treasury Sanctions Leaders of {org}", "Sanctions Target {drug} Traffickers Tied to {org}", "OFAC Designates {person} of {org}"},
			atalaya.Spanish: {"México y Estados Unidos coordinan sanciones contra {org}", "La UIF congela cuentas vinculadas a {org}", "Sanciones financieras a {person} de {org}"},
		},
		sentences: map[atalaya.Language][]string{
			atalaya.English: {
				"Today the Department of the Treasury sanctioned {n} individuals and {n} entities linked to {org}.",
				"As a result of today's action, all property and interests in property of the designated persons in the United States are blocked.",
				"{org} traffics {drug} into the United States through ports of entry in {place}.",
				"The designations target {person} who laundered proceeds through front companies in {place2}.",
				"U.S. persons are generally prohibited from engaging in transactions with the sanctioned individuals.",
				"The sanctions were coordinated with the Financial Intelligence Unit of {country}.",
			},
			atalaya.Spanish: {
				"La Unidad de Inteligencia Financiera congeló {n} cuentas bancarias vinculadas con {org}.",
				"Las sanciones alcanzan a {person} señalado por operar redes de lavado de dinero en {place2}.",
				"{org} trafica {drug} hacia Estados Unidos a través de cruces fronterizos en {place}.",
				"Las personas designadas no podrán realizar operaciones con instituciones financieras del país.",
				"La medida se coordinó con el Departamento del Tesoro de Estados Unidos.",
				"Las autoridades identificaron {n} empresas fachada utilizadas para ocultar recursos ilícitos.",
			},
		},
	},
	{
		kind: kingpin, theme: "extradition",
		titles: map[atalaya.Language][]string{
			atalaya.English: {"Extradition of {person} from {country}", "Alleged Leader of {org} Extradited to the United States", "Justice Cooperation Leads to Extradition in {org} Case"},
			atalaya.Spanish: {"FGR entrega en extradición a {person} de {org}", "México concreta la extradición de {person}", "Extradiciones a Estados Unidos de integrantes de {org}"},
		},
		sentences: map[atalaya.Language][]string{
			atalaya.English: {
				"{person} of {org} was extradited from {country} to face charges of {drug} trafficking.",
				"The extradition was made possible by close cooperation between prosecutors of both countries.",
				"The defendant is accused of directing shipments of {drug} from {place} to cities across the United States.",
				"If convicted, the defendant faces a sentence of up to life in prison.",
				"Authorities in {country} arrested the defendant in {place2} after a long investigation.",
			},
			atalaya.Spanish: {
				"La Fiscalía General de la República entregó en extradición a {person} de {org}.",
				"La extradición se concretó en el Aeropuerto Internacional de la Ciudad de México.",
				"El extraditado es requerido por una corte federal por delitos contra la salud relacionados con {drug}.",
				"En lo que va del año se han realizado {n} extradiciones a Estados Unidos.",
				"La detención ocurrió en {place2}, {place}, en cumplimiento de una orden de detención provisional con fines de extradición.",
			},
		},
	},
	{
		kind: kingpin, theme: "arms_trafficking",
		titles: map[atalaya.Language][]string{
			atalaya.English: {"Charges Filed Against Arms Trafficking Network Supplying {org}", "Joint Effort to Stop the Southbound Flow of {weapon}"},
			atalaya.Spanish: {"Aseguran {weapon} en {place}", "México exige frenar el tráfico de armas hacia su territorio"},
		},
		sentences: map[atalaya.Language][]string{
			atalaya.English: {
				"The network purchased {weapon} in {place} and smuggled them across the border to {org}.",
				"Agents seized {n} {weapon} and thousands of rounds of ammunition.",
				"Arms trafficking fuels violence on both sides of the border.",
				"Straw purchasers bought {weapon} on behalf of the organization.",
			},
			atalaya.Spanish: {
				"Elementos de seguridad aseguraron {n} {weapon} en un inmueble de {place2}.",
				"El tráfico ilícito de armas desde Estados Unidos alimenta la violencia en {place}.",
				"México presentó una demanda contra empresas fabricantes de {weapon}.",
				"Las armas aseguradas fueron puestas a disposición del Ministerio Público Federal.",
			},
		},
	},
	{
		kind: kingpin, theme: "precursors",
		titles: map[atalaya.Language][]string{
			atalaya.English: {"Action Against Suppliers of {chem} to {org}", "Seizure of {chem} Bound for Clandestine Labs"},
			atalaya.Spanish: {"Aseguran {chem} en el puerto de {place2}", "Desmantelan laboratorio clandestino de {drug} en {place}"},
		},
		sentences: map[atalaya.Language][]string{
			atalaya.English: {
				"Suppliers in {country} shipped {chem} used to make {drug} in clandestine labs in {place}.",
				"Customs officers seized {n} tons of {chem} at the port of {place2}.",
				"The laboratory could produce millions of doses of {drug} every month.",
			},
			atalaya.Spanish: {
				"Personal de la Marina aseguró {n} toneladas de {chem} en el puerto de {place2}.",
				"El laboratorio clandestino desmantelado en {place} producía {drug} a gran escala.",
				"Los {chem} provenían de {country} y estaban destinados a {org}.",
			},
		},
	},
	{
		kind: rootCauseKind, theme: "prevention",
		titles: map[atalaya.Language][]string{
			atalaya.English: {"New Funding for {program} in {place}", "Partnership to Prevent Youth Drug Use"},
			atalaya.Spanish: {"Arranca campaña nacional de prevención de adicciones en {place}", "Jóvenes de {place2} se suman a {program}"},
		},
		sentences: map[atalaya.Language][]string{
			atalaya.English: {
				"The grants support {program} that reach young people before they try {drug}.",
				"Prevention works best when families, schools and communities act together.",
				"The program will train {n} teachers and counselors in {place}.",
				"Investing in opportunities for young people reduces the recruitment power of {org}.",
			},
			atalaya.Spanish: {
				"La campaña busca prevenir el consumo de {drug} entre niñas, niños y adolescentes.",
				"Se instalarán {n} {program} en colonias de {place2}.",
				"Atender las causas significa ofrecer a las y los jóvenes educación, deporte y empleo.",
				"La prevención comunitaria reduce el reclutamiento de jóvenes por parte de {org}.",
			},
		},
	},
	{
		kind: rootCauseKind, theme: "treatment",
		titles: map[atalaya.Language][]string{
			atalaya.English: {"Expanding Access to Addiction Treatment", "Naloxone and Treatment Services Reach {place}"},
			atalaya.Spanish: {"Amplían la red de {program}", "Salud fortalece la atención de las adicciones en {place}"},
		},
		sentences: map[atalaya.Language][]string{
			atalaya.English: {
				"The initiative expands access to treatment for people with substance use disorders.",
				"Overdose deaths involving {drug} declined in {place} after naloxone became widely available.",
				"Clinics will offer medication for opioid use disorder and counseling.",
			},
			atalaya.Spanish: {
				"La Secretaría de Salud amplió la atención de las adicciones en {n} unidades médicas.",
				"Las personas usuarias de {drug} podrán recibir tratamiento gratuito y confidencial.",
				"Los {program} ofrecen atención psicológica y acompañamiento a las familias.",
			},
		},
	},
	{
		kind: neutral, theme: "",
		titles: map[atalaya.Language][]string{
			atalaya.English: {"Secretary Meets with Foreign Minister of {country}", "Joint Statement on the Security Dialogue with {country}"},
			atalaya.Spanish: {"Canciller se reúne con su homólogo de {country}", "Comunicado conjunto sobre el diálogo de seguridad con {country}"},
		},
		sentences: map[atalaya.Language][]string{
			atalaya.English: {
				"The Secretary met with the Foreign Minister of {country} to discuss the bilateral relationship.",
				"The two delegations reviewed trade, migration and security cooperation.",
				"The high-level dialogue will meet again in {place2}.",
			},
			atalaya.Spanish: {
				"La canciller sostuvo una reunión con su homólogo de {country} para revisar la agenda bilateral.",
				"Las delegaciones abordaron temas de comercio, migración y cooperación en seguridad.",
				"El diálogo de alto nivel sesionará nuevamente en {place2}.",
			},
		},
	},
}
