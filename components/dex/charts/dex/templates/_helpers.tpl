{{/* The name of every object: the release name, which strata sets to the component name. */}}
{{- define "dex.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dex.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end }}

{{/* An image of the platform registry: required, so a cluster without one fails to render. */}}
{{- define "dex.image" -}}
{{- $registry := required "global.registry must be set: the registry every image comes from" .root.Values.global.registry -}}
{{ $registry }}/{{ .image.name }}:{{ .image.tag }}
{{- end }}

{{- define "dex.host" -}}
{{ .name }}.{{ required "global.baseDomain must be set" .root.Values.global.baseDomain }}
{{- end }}
