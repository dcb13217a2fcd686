// Package templates embeds the default templates of mail and pages. A
// folder named by templates.dir in the config overrides them file by file.
// It imports no package of tidings.
package templates
